"""evsim models: the registered models, their parameters, state and ports."""
from __future__ import annotations

from netspec import registry
from netspec.errors import did_you_mean

from ..cli import UsageError


def add_parser(sub):
    p = sub.add_parser("models", help="list the neuron and source models, or describe one")
    p.add_argument("name", nargs="?", help="a model to describe")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.name is None:
        for name, m in registry.all_models().items():
            print(f"{name:14s} {m.kind:7s} {m.doc}")
        return 0
    m = registry.get(args.name)
    if m is None:
        raise UsageError(f"unknown model {args.name!r}" + did_you_mean(args.name, registry.names()))
    print(f"{m.name} ({m.kind}): {m.doc}")
    if m.params:
        print("parameters:")
        for k, p in m.params.items():
            default = "required" if p.default is None else f"default {p.default}"
            print(f"  {k:10s} [{p.unit}] {default}: {p.doc}")
    if m.state:
        print("state:")
        for k, s in m.state.items():
            init = f"from {s.default_from}" if s.default_from else f"initially {s.default}"
            print(f"  {k:10s} [{s.unit}] {init}: {s.doc}")
    if m.ports:
        print("input ports:")
        for k, p in m.ports.items():
            print(f"  {k:10s} weight in {p.weight_unit}: {p.doc}" + (" (default)" if k == m.default_port else ""))
    return 0
