"""spike_times: a source that emits given spikes (from the netlist or a file).

In grid mode a spike at time t is emitted in the step int((t + 0.001 dt) / dt), as Brian2's
SpikeGeneratorGroup bins it; two spikes of one neuron in the same step are an error there and
here.
"""
from __future__ import annotations

from netspec.model_spec import SOURCE, ModelSpec

MODEL = ModelSpec(
    name="spike_times",
    kind=SOURCE,
    doc="emits the spikes listed in the population's `spikes:` (times and ids, or a file)",
    takes_spike_list=True,
)

COLUMNS = ()


def derive(p: dict) -> dict:
    return {}


BRIAN2 = None  # a SpikeGeneratorGroup
