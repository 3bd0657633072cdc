"""One module per ``evsim`` command: ``add_parser(subparsers)`` and ``run(args) -> exit status``."""
