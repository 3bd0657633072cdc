"""Arguments and helpers shared by the commands."""
from __future__ import annotations

import sys

import netspec


def add_netlist_args(p, overrides: bool = True):
    p.add_argument("netlist", help="netlist file (YAML)")
    if overrides:
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                       help="override a value, e.g. --set populations.exc.size=400 (repeatable)")


def load(args, extra_overrides=()) -> netspec.Netlist:
    """Loads the netlist named in ``args``, printing warnings to stderr."""
    warnings: list = []
    net = netspec.load(args.netlist, overrides=list(getattr(args, "overrides", [])) + list(extra_overrides),
                       warnings=warnings)
    for w in warnings:
        print(str(w), file=sys.stderr)
    return net
