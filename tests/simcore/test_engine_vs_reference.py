"""The compiled engine against the slow reference engine, spike for spike, on random networks."""
from __future__ import annotations

import numpy as np
import pytest

import backends
import netspec
from random_networks import random_netlist
from reference_engine import simulate

QUICK_SEEDS = range(8)
SLOW_SEEDS = range(8, 40)


def _compare(seed: int, mode: str, duration_ms: float):
    arrays = netspec.expand(netspec.loads(random_netlist(seed, mode=mode, duration_ms=duration_ms)))
    ref = simulate(arrays)
    res = backends.run(arrays)
    total = 0
    for pop, (t_ref, i_ref) in ref["spikes"].items():
        t, i = res.spikes[pop]
        total += t.size
        assert t.size == t_ref.size, f"seed {seed} {pop}: {t.size} spikes, reference {t_ref.size}"
        assert np.array_equal(i, i_ref), f"seed {seed} {pop}: neuron order differs"
        if mode == "grid":
            assert np.array_equal(t, t_ref), f"seed {seed} {pop}: grid spike times differ"
        else:
            np.testing.assert_allclose(t, t_ref, rtol=0, atol=1e-10, err_msg=f"seed {seed} {pop}")
    return total


@pytest.mark.parametrize("mode", ["exact", "grid"])
@pytest.mark.parametrize("seed", QUICK_SEEDS)
def test_random_network_matches_reference(seed, mode):
    """Random small networks (all models, sources, zero and heterogeneous delays): same spikes
    as the reference engine (grid: identical; exact: within 1e-10 s)."""
    _compare(seed, mode, 80.0)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["exact", "grid"])
@pytest.mark.parametrize("seed", SLOW_SEEDS)
def test_more_random_networks_match_reference(seed, mode):
    """As above, on more and longer random networks."""
    _compare(seed, mode, 150.0)
