"""What a neuron model declares about itself: parameters, state, input ports.

These are plain data. Each model file in ``simcore/models`` creates one :class:`ModelSpec`
(as its ``MODEL``), so the netlist layer can check a population's parameters, units, bounds
and ports without holding any per-model code, and without importing the engine's kernels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .units import Dim, UnitError, parse_dim, parse_quantity

NEURON = "neuron"    # integrates inputs, spikes at a threshold
SOURCE = "source"    # emits spikes from a rule or a list, receives nothing
GATED = "gated"      # event-gated unit (EGRU): graded events, discrete time


def _si(value, unit: str) -> float | None:
    """A default or bound written as a quantity string or an SI number, in SI."""
    if value is None:
        return None
    if isinstance(value, str):
        v, dim, _ = parse_quantity(value)
        if dim != parse_dim(unit):
            raise UnitError(f"{value!r} is not in {unit}")
        return v
    return float(value)


@dataclass(frozen=True)
class Param:
    """A model parameter. ``default`` None means the netlist must give it.

    Bounds are inclusive unless ``open_min``/``open_max``; ``typical`` is a range outside of
    which ``evsim validate`` warns (a plain number is SI: ``tau_m: 20`` is 20 seconds).
    """

    unit: str
    default: float | str | dict | None = None
    doc: str = ""
    min: float | str | None = None
    max: float | str | None = None
    open_min: bool = False
    open_max: bool = False
    typical: tuple | None = None
    integer: bool = False
    #: a parameter written as one of these words (stored as its index, a float), such as a reset form
    choices: tuple | None = None

    @property
    def dim(self) -> Dim:
        return parse_dim(self.unit)

    @property
    def default_is_distribution(self) -> bool:
        """A default such as ``{"beta": {"a": 1.2857, "b": 3}}``: drawn per element like a written value."""
        return isinstance(self.default, dict)

    @property
    def may_be_infinite(self) -> bool:
        """Infinity is meaningful only where it is the default (e.g. a source's ``stop``: never)."""
        d = self.default_si() if not self.default_is_distribution else None
        return d is not None and math.isinf(d)

    def default_si(self) -> float | None:
        if self.choices is not None and isinstance(self.default, str):
            return float(self.choices.index(self.default))
        if self.default_is_distribution:
            return None
        return _si(self.default, self.unit)

    def bounds_si(self) -> tuple[float, float]:
        lo = _si(self.min, self.unit)
        hi = _si(self.max, self.unit)
        return (-math.inf if lo is None else lo, math.inf if hi is None else hi)

    def typical_si(self) -> tuple[float, float] | None:
        if self.typical is None:
            return None
        return (_si(self.typical[0], self.unit), _si(self.typical[1], self.unit))

    def bound_problem(self, value: float) -> str | None:
        """Why ``value`` is out of bounds, or None."""
        if math.isnan(value) or (math.isinf(value) and not self.may_be_infinite):
            return "expected a finite value"   # the kernels' closed forms give nan for inf - inf
        lo, hi = self.bounds_si()
        too_low = value < lo or (self.open_min and value == lo)
        too_high = value > hi or (self.open_max and value == hi)
        if not (too_low or too_high):
            if self.integer and value != int(value):
                return "expected a whole number"
            return None
        parts = []
        if lo > -math.inf:
            parts.append(("> " if self.open_min else ">= ") + _fmt(lo, self.dim))
        if hi < math.inf:
            parts.append(("< " if self.open_max else "<= ") + _fmt(hi, self.dim))
        return "expected " + " and ".join(parts)


def _fmt(value: float, dim: Dim) -> str:
    from .units import format_quantity

    return str(format_quantity(value, dim))


@dataclass(frozen=True)
class StateVar:
    """A state variable; its initial value is ``default`` or, if ``default_from`` names a
    parameter, that parameter's value for each neuron."""

    unit: str
    default: float | str | None = 0.0
    default_from: str | None = None
    doc: str = ""

    @property
    def dim(self) -> Dim:
        return parse_dim(self.unit)

    def default_si(self) -> float | None:
        return _si(self.default, self.unit)


@dataclass(frozen=True)
class Port:
    """An input port: where a projection's weight lands, and the weight's unit."""

    weight_unit: str
    doc: str = ""

    @property
    def dim(self) -> Dim:
        return parse_dim(self.weight_unit)


@dataclass(frozen=True)
class Constraint:
    """``lhs op rhs`` between two parameters, e.g. ``('v_reset', '<', 'v_th')``."""

    lhs: str
    op: str
    rhs: str
    why: str = ""

    def holds(self, a, b):
        import numpy as np

        ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "!=": np.not_equal}
        return ops[self.op](a, b)


@dataclass(frozen=True)
class ModelSpec:
    """Everything the netlist layer needs to know about one registered model."""

    name: str
    kind: str
    doc: str
    params: dict = field(default_factory=dict)       # name -> Param
    state: dict = field(default_factory=dict)        # name -> StateVar
    ports: dict = field(default_factory=dict)        # name -> Port
    default_port: str | None = None
    constraints: tuple = ()
    time_modes: tuple = ("exact", "grid")
    takes_spike_list: bool = False                   # a source fed by `spikes:`
    takes_sequence: bool = False                     # a source fed by `sequence:` (values per step)
    module: str = ""                                 # the Python module that defines it

    def __post_init__(self):
        for name, p in self.params.items():
            p.dim  # fail early on a bad unit in a model file
            if p.choices is not None and p.default is not None and p.default not in p.choices:
                raise ValueError(f"model {self.name}: default of {name!r} is not one of its choices")
            if p.default_is_distribution and len(p.default) != 1:
                raise ValueError(f"model {self.name}: a distribution default of {name!r} has one key")
            if p.default is not None:
                p.default_si()
        for s in self.state.values():
            s.dim
            if s.default_from is not None and s.default_from not in self.params:
                raise ValueError(f"model {self.name}: state default_from {s.default_from!r} is not a parameter")
        if self.default_port is not None and self.default_port not in self.ports:
            raise ValueError(f"model {self.name}: default port {self.default_port!r} is not a port")
        for c in self.constraints:
            if c.lhs not in self.params or c.rhs not in self.params:
                raise ValueError(f"model {self.name}: constraint on unknown parameter")

    @property
    def is_source(self) -> bool:
        return self.kind == SOURCE

    @property
    def is_stepped(self) -> bool:
        """Runs in discrete steps on the gated engine (event-gated units and their sequence inputs)."""
        return self.kind == GATED or self.takes_sequence

