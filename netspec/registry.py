"""The model registry: model name -> :class:`ModelSpec`.

Models announce themselves through the ``evsim.models`` entry-point group: an entry point
names a ModelSpec or a sequence of them (``simcore.models:MODELS`` collects every model file
in ``simcore/models``, so adding a model there needs no other edit). Third-party packages add
models the same way; ``register`` adds one at run time (tests, notebooks).
"""
from __future__ import annotations

from importlib import metadata

from .model_spec import ModelSpec

ENTRY_POINT_GROUP = "evsim.models"

_models: dict[str, ModelSpec] = {}
_discovered = False


def register(spec: ModelSpec, replace: bool = False) -> ModelSpec:
    """Adds a model; a second model of the same name needs ``replace=True``."""
    if not replace and spec.name in _models and _models[spec.name] is not spec:
        raise ValueError(f"a model named {spec.name!r} is already registered (from {_models[spec.name].module})")
    _models[spec.name] = spec
    return spec


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        specs = [loaded] if isinstance(loaded, ModelSpec) else list(loaded)
        for spec in specs:
            if not isinstance(spec, ModelSpec):
                raise TypeError(f"entry point {ep.value} holds {spec!r}, not a ModelSpec")
            _models.setdefault(spec.name, spec)


def get(name: str) -> ModelSpec | None:
    _discover()
    return _models.get(name)


def names() -> list[str]:
    _discover()
    return sorted(_models)


def all_models() -> dict[str, ModelSpec]:
    _discover()
    return dict(_models)
