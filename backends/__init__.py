"""backends: one interface, several simulators.

    result = backends.run(netlist_or_path, backend="event")      # evsim's own engine
    result = backends.run(netlist_or_path, backend="brian2")     # the same netlist in Brian2

Each backend is a module ``backends/<name>.py`` (or package) with ``run(arrays, **options) ->
Result`` taking the expanded netlist (``netspec.expand``), so every backend simulates the
identical network: the same connectivity, weights, delays and source spike trains.
"""
from __future__ import annotations

import importlib

import netspec
from netspec.errors import did_you_mean

from .result import Result

BACKENDS = {"event": "backends.event", "brian2": "backends.brian2"}


class BackendError(RuntimeError):
    """A backend cannot run (not installed, a model it cannot translate); the message says why."""


def get(name: str):
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r} (available: {', '.join(BACKENDS)})" + did_you_mean(name, BACKENDS))
    return importlib.import_module(BACKENDS[name])


def run(spec, backend: str = "event", overrides=(), **options) -> Result:
    """Runs a netlist (a path, a Netlist or an Expanded) on a backend."""
    arrays = as_expanded(spec, overrides)
    return get(backend).run(arrays, **options)


def as_expanded(spec, overrides=()) -> netspec.Expanded:
    if isinstance(spec, netspec.Expanded):
        return spec
    if not isinstance(spec, netspec.Netlist):
        spec = netspec.load(spec, overrides=overrides)
    return netspec.expand(spec)


__all__ = ["run", "get", "Result", "BackendError", "BACKENDS", "as_expanded"]
