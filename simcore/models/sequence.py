"""sequence: an input population for event-gated networks, one value per element and step.

Its values come from the population's ``sequence:`` (dense rows per step from a file or the
netlist, or events: times, ids, values); zero values are no input. Each non-zero value is an
event carrying that value to the targets' gate ports (the x_t of the EGRU equations). Training
tasks (``evsim train``) feed their own sequences through it. No kernels of the spiking engine.
"""
from __future__ import annotations

from netspec.model_spec import SOURCE, ModelSpec

MODEL = ModelSpec(
    name="sequence",
    kind=SOURCE,
    doc="input values per step for event-gated units (dense rows or events: times, ids, values)",
    takes_sequence=True,
    time_modes=("steps", "grid"),
)

COLUMNS = ()

BRIAN2 = None
