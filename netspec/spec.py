"""The checked netlist as plain data.

A :class:`Netlist` is what every other part of evsim reads. All quantities are SI floats;
every object keeps the location it came from (``loc``, not part of equality), so that later
stages (expansion, the engine, a backend) can still point at the line that caused a problem.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import UNKNOWN, Location
from .units import Dim

EXACT = "exact"
GRID = "grid"
STEPS = "steps"      # discrete time, one step per dt (event-gated units: one step per sequence element)
TIME_MODES = (EXACT, GRID, STEPS)


def _loc():
    return field(default=UNKNOWN, compare=False, repr=False)


# ----------------------------------------------------------------------------- values
@dataclass(frozen=True)
class Const:
    """One value for every element."""

    value: float
    dim: Dim
    loc: Location = _loc()


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high)."""

    low: float
    high: float
    dim: Dim
    loc: Location = _loc()


@dataclass(frozen=True)
class Normal:
    """Normal(mean, std); values outside [min, max] are drawn again (a truncated normal)."""

    mean: float
    std: float
    dim: Dim
    min: float | None = None
    max: float | None = None
    loc: Location = _loc()


@dataclass(frozen=True)
class Values:
    """Explicit values, one per element."""

    values: tuple
    dim: Dim
    loc: Location = _loc()


@dataclass(frozen=True)
class FromFile:
    """Values from a file: ``.npy``, ``.npz`` (array ``key``) or ``.csv`` (column ``key``),
    multiplied by ``scale`` (the SI value of the file's ``unit``)."""

    path: str
    dim: Dim
    key: str | None = None
    scale: float = 1.0
    unit: str | None = None
    loc: Location = _loc()


@dataclass(frozen=True)
class Beta:
    """Beta(a, b) scaled to [low, high] (default [0, 1]): low + (high - low) Beta(a, b)."""

    a: float
    b: float
    dim: Dim
    low: float = 0.0
    high: float = 1.0
    loc: Location = _loc()


@dataclass(frozen=True)
class Ternary:
    """Weights in {-value, 0, +value} with probabilities ``p`` = (p_minus, p_zero, p_plus)."""

    value: float
    p: tuple
    dim: Dim
    loc: Location = _loc()


@dataclass(frozen=True)
class Column:
    """Per-synapse values from a column of the projection's connection file."""

    name: str
    dim: Dim
    scale: float = 1.0
    unit: str | None = None
    loc: Location = _loc()


ValueSpec = Const | Uniform | Normal | Values | FromFile | Ternary | Column | Beta


# ----------------------------------------------------------------------------- parts
@dataclass(frozen=True)
class TimeSpec:
    duration: float
    mode: str = EXACT
    dt: float | None = None
    loc: Location = _loc()

    @property
    def n_steps(self) -> int:
        """Number of dt steps in the duration (the steps of a discrete-time run)."""
        return int(round(self.duration / self.dt)) if self.dt else 0


@dataclass(frozen=True)
class SpikeList:
    """Explicit spikes of a source population: parallel arrays of times and neuron ids."""

    times: tuple
    ids: tuple
    loc: Location = _loc()


@dataclass(frozen=True)
class SpikeFile:
    """Spikes from ``.npz`` (arrays ``times``, ``ids``) or ``.csv`` (columns ``time``/``times``, ``id``/``ids``)."""

    path: str
    scale: float = 1.0
    unit: str | None = None
    loc: Location = _loc()


@dataclass(frozen=True)
class SequenceEvents:
    """Input values as events: parallel ``times`` (seconds, whole multiples of dt), ``ids``, ``values``."""

    times: tuple
    ids: tuple
    values: tuple
    loc: Location = _loc()


@dataclass(frozen=True)
class SequenceRows:
    """Dense input values, one row (a value per element) per step."""

    rows: tuple
    loc: Location = _loc()


@dataclass(frozen=True)
class SequenceFile:
    """Input values from a file: ``.npy`` or an ``.npz`` array ``key`` holding (steps, size) dense rows,
    or an ``.npz`` with arrays ``times`` (or ``steps``), ``ids`` and ``values`` (events; times in
    ``unit``, default seconds)."""

    path: str
    key: str | None = None
    scale: float = 1.0
    unit: str | None = None
    loc: Location = _loc()


@dataclass(frozen=True)
class Population:
    name: str
    size: int
    model: str
    params: dict = field(default_factory=dict)   # name -> ValueSpec (every parameter, defaults filled)
    init: dict = field(default_factory=dict)     # state name -> ValueSpec (given ones only)
    spikes: SpikeList | SpikeFile | None = None
    like: str | None = field(default=None, compare=False)   # where the settings were copied from
    loc: Location = _loc()
    sequence: SequenceEvents | SequenceRows | SequenceFile | None = None   # a sequence source's input


CONNECT_RULES = ("all_to_all", "one_to_one", "probability", "in_degree", "out_degree", "pairs", "file")


@dataclass(frozen=True)
class Connect:
    """A connectivity rule. ``p`` for probability, ``k`` for fixed in/out-degree, ``pre``/``post``
    for explicit pairs (indices into the concatenated source/target populations), ``path`` for a file."""

    rule: str
    p: float | None = None
    k: int | None = None
    pre: tuple | None = None
    post: tuple | None = None
    path: str | None = None
    allow_self: bool = True
    multapses: bool = False
    loc: Location = _loc()


@dataclass(frozen=True)
class Projection:
    name: str
    pre: tuple            # source population names (concatenated in this order)
    post: tuple           # target population names
    connect: Connect
    weight: object        # ValueSpec
    delay: object         # ValueSpec
    port: str
    loc: Location = _loc()


@dataclass(frozen=True)
class StateRecord:
    population: str
    vars: tuple
    neurons: tuple | None  # None: every neuron
    every: float | None    # None: every dt (grid) or the netlist's default interval
    loc: Location = _loc()


@dataclass(frozen=True)
class RecordSpec:
    spikes: tuple = ()                 # population names
    state: tuple = ()                  # StateRecord
    loc: Location = _loc()


@dataclass(frozen=True)
class Netlist:
    name: str
    seed: int
    time: TimeSpec
    populations: dict                  # name -> Population, in the order written
    projections: tuple                 # Projection
    record: RecordSpec
    precision: str = "double"
    description: str = ""
    train: dict | None = None
    #: where each value of ``train`` was written (path below 'train' -> Location), for the trainers' messages
    train_locs: dict | None = field(default=None, compare=False, repr=False)
    files: tuple = field(default=(), compare=False)   # every file read, the netlist's first
    loc: Location = _loc()

    @property
    def source_file(self) -> str:
        return self.files[0] if self.files else "<string>"

    def population_offsets(self) -> dict:
        """Global index of each population's first neuron (populations concatenated in order)."""
        offsets, n = {}, 0
        for name, pop in self.populations.items():
            offsets[name] = n
            n += pop.size
        return offsets

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations.values())
