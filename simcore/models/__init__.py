"""The neuron and source models, one file each.

Every module in this package that defines ``MODEL`` (a :class:`netspec.model_spec.ModelSpec`)
is a model: its parameters, state, kernels and Brian2 equations live together in that file.
``MODELS`` lists them all; the ``evsim.models`` entry point hands it to the netlist registry,
so adding a model file here is the only edit a new model needs.
"""
from __future__ import annotations

import importlib
import pkgutil


def _discover():
    out = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "MODEL", None)
        if spec is not None:
            out[spec.name] = module
    return out


#: model name -> module (kernels, Brian2 translation)
MODULES = _discover()
#: every model's ModelSpec, for the netlist registry
MODELS = tuple(m.MODEL for m in MODULES.values())


def module(name: str):
    """The module holding a model's kernels: ours, or a third-party model's (its ModelSpec
    names its module). KeyError if there is none."""
    if name in MODULES:
        return MODULES[name]
    from netspec import registry

    spec = registry.get(name)
    if spec is None or not spec.module:
        raise KeyError(name)
    return importlib.import_module(spec.module)
