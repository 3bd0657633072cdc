"""Per-neuron parameter and state matrices of a population, in a model's kernel order."""
from __future__ import annotations

import numpy as np

from .models import module as model_module


def param_matrix(pop) -> np.ndarray:
    """(size, len(COLUMNS)) float64: the model's parameters and derived constants per neuron."""
    mod = model_module(pop.model)
    if not mod.COLUMNS:
        return np.zeros((pop.size, 0))
    derived = mod.derive(pop.params)
    cols = [np.broadcast_to(np.asarray(pop.params[c] if c in pop.params else derived[c], dtype=np.float64),
                            (pop.size,)) for c in mod.COLUMNS]
    return np.ascontiguousarray(np.column_stack(cols))


def state_matrix(pop) -> np.ndarray:
    """(size, number of state variables) float64: the initial state, in MODEL.state order."""
    mod = model_module(pop.model)
    names = list(mod.MODEL.state)
    if not names:
        return np.zeros((pop.size, 0))
    return np.ascontiguousarray(np.column_stack([np.broadcast_to(np.asarray(pop.init[k], dtype=np.float64),
                                                                 (pop.size,)) for k in names]))
