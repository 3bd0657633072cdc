"""Which engine a network gets: its own models when compiled, else every model when that is compiled."""
from __future__ import annotations

import numpy as np
import pytest

import netspec
from simcore import codegen
from simcore.runner import Simulation

SMALL = """
time: {duration: 50 ms, mode: exact}
populations:
  src: {size: 3, model: spike_times, spikes: [[1 ms, 4 ms], [2 ms], [2.5 ms, 9 ms]]}
  n: {size: 2, model: lif_exp, params: {e_l: 0 V, v_th: 1 V, v_reset: 0 V, tau_m: 10 ms, tau_exc: 3 ms}}
projections:
  - {from: src, to: n, connect: all_to_all, weight: 0.9 V, delay: 1 ms}
record: {spikes: all, state: {n: {vars: [v], every: 1 ms}}}
"""


def test_models_for_prefers_the_networks_own_engine_then_the_full_one(tmp_path, monkeypatch):
    """A network gets the engine over its own models when that one is compiled, else the one over
    every model when that one is, else its own (compiled then); each time mode on its own."""
    monkeypatch.setenv("EVSIM_CACHE_DIR", str(tmp_path))
    everything = codegen.all_model_names()
    own = ("lif_exp", "spike_times")
    assert codegen.models_for({"spike_times", "lif_exp"}, grid=False) == own
    codegen.mark_ready(everything, grid=False)
    assert codegen.models_for({"spike_times", "lif_exp"}, grid=False) == everything
    assert codegen.models_for({"lif_exp"}, grid=True) == ("lif_exp",)   # per mode
    codegen.mark_ready(own, grid=False)
    assert codegen.models_for({"spike_times", "lif_exp"}, grid=False) == own
    assert codegen.models_for({"lif_exp"}, grid=False) == everything
    # asked for explicitly, whatever is compiled
    assert codegen.models_for({"lif_exp"}, grid=False, engine="own") == ("lif_exp",)
    assert codegen.models_for({"spike_times", "lif_exp"}, grid=True, engine="all") == everything
    with pytest.raises(ValueError, match="engine must be one of auto, own, all"):
        codegen.models_for({"lif_exp"}, grid=False, engine="fast")


def test_an_engine_over_the_networks_own_models_gives_the_same_results():
    """The engine over a network's own models and the one over every model agree bit for bit."""
    arrays = netspec.expand(netspec.loads(SMALL, filename="<small>"))
    full = Simulation(arrays, engine="all")
    own = Simulation(arrays, engine="own")
    assert own.layout.model_names == ("lif_exp", "spike_times") != full.layout.model_names
    a, b = own.run(), full.run()
    assert a.spike_times.size > 0
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.spike_ids, b.spike_ids)
    np.testing.assert_array_equal(a.sample_values, b.sample_values)
