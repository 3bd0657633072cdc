"""evsim: the command line and package metadata."""
