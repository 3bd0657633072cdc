"""simcore: the compiled event-driven engine of evsim."""
