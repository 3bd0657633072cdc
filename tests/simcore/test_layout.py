"""simcore.layout: the arrays a network compiles to."""
from __future__ import annotations

import textwrap

import numpy as np

import netspec
from simcore.engine_template import J_D_CONST, J_D_OFF, J_INDPTR, J_SYN, JF_D
from simcore.layout import build, partition_bounds

NET = """
seed: 3
time: {duration: 50 ms, mode: exact}
populations:
  a: {size: 30, model: poisson, params: {rate: 20 Hz}}
  b: {size: 70, model: lif_exp}
projections:
  - {name: ab, from: a, to: b, connect: {probability: 0.5}, weight: 1 mV, delay: {uniform: [1 ms, 5 ms]}}
  - {name: bb, from: b, to: b, connect: {out_degree: 9}, weight: 1 mV, delay: 2 ms}
  - {name: ab2, from: a, to: b, connect: {out_degree: 12}, weight: 2 mV, delay: {uniform: [1 ms, 2 ms]}}
"""


def rows(lay):
    """Per projection and row: (targets, delays, expanded synapse indices) in CSR order."""
    net = lay.net
    out = []
    for q, order in enumerate(lay.synapse_order):
        r0, soff = net.proj_i[q, J_INDPTR], net.proj_i[q, J_SYN]
        n_rows = (net.proj_i[q + 1, J_INDPTR] if q + 1 < len(lay.synapse_order) else net.indptr.size) - r0 - 1
        for r in range(r0, r0 + n_rows):
            s = np.arange(net.indptr[r], net.indptr[r + 1])
            d = (np.full(s.size, net.proj_f[q, JF_D]) if net.proj_i[q, J_D_CONST]
                 else net.syn_delay[net.proj_i[q, J_D_OFF] + s])
            out.append((r, net.syn_target[soff + s], d, order[s]))
    return out


def test_rows_grouped_by_partition_hold_the_same_synapses_in_a_compatible_order():
    """On 4 partitions every CSR row lists its synapses partition by partition (syn_ptr), by
    delay within a partition; the rows hold the same synapses as on one partition, and the
    synapses onto any one neuron keep their order (which orders simultaneous inputs)."""
    arrays = netspec.expand(netspec.loads(textwrap.dedent(NET)))
    names = tuple(sorted({p.model for p in arrays.populations.values()}))
    one, four = build(arrays, names), build(arrays, names, parts=4)
    bounds = partition_bounds(one.cfg.n, 4)
    assert one.syn_ptr.shape == (0, 0) and four.syn_ptr.shape == (one.net.indptr.size, 5)
    assert np.array_equal(one.net.indptr, four.net.indptr)
    grouped = 0
    for (r, t1, d1, o1), (_, t4, d4, o4) in zip(rows(one), rows(four)):
        assert sorted(o1) == sorted(o4)
        ptr = four.syn_ptr[r] - four.net.indptr[r]
        assert ptr[0] == 0 and ptr[-1] == t4.size and np.all(np.diff(ptr) >= 0)
        for p in range(4):
            part = slice(ptr[p], ptr[p + 1])
            assert np.all((t4[part] >= bounds[p]) & (t4[part] < bounds[p + 1]))
            assert np.all(np.diff(d4[part]) >= 0)
        for j in np.unique(t1):
            assert np.array_equal(o1[t1 == j], o4[t4 == j])
        grouped += not np.array_equal(o1, o4)
    assert grouped > 0      # the grouping did reorder rows
