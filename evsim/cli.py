"""The ``evsim`` command: ``evsim <command> ...``; ``evsim <command> -h`` for each.

Exit status: 0 success; 1 a check failed (e.g. backends disagree); 2 bad input (the netlist,
a file, the arguments); 130 interrupted.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from netspec import NetlistError

COMMANDS = ("run", "validate", "graph", "compare", "train", "gradcheck", "plot", "prune", "models", "schema",
            "warmup")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evsim", description="event-driven simulation of spiking networks")
    parser.add_argument("--version", action="version", version=f"evsim {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    sub.required = True
    for name in COMMANDS:
        module = _command(name)
        if module is not None:
            module.add_parser(sub)
    return parser


def _command(name: str):
    try:
        return importlib.import_module(f"evsim.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"evsim.commands.{name}":
            return None
        raise


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("evsim")
    except PackageNotFoundError:
        return "unknown"


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NetlistError as exc:
        print(str(exc), file=sys.stderr)
        n = len(exc.problems)
        print(f"evsim: {n} problem{'s' if n != 1 else ''} found", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"evsim {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not bad input: say so without burying the user in a traceback
        if os.environ.get("EVSIM_DEBUG"):
            raise
        print(f"evsim {args.command}: internal error: {type(exc).__name__}: {exc}\n"
              f"(this is a bug in evsim; EVSIM_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


class UsageError(Exception):
    """Bad arguments or input files outside a netlist: one line, exit status 2."""


if __name__ == "__main__":
    sys.exit(main())
