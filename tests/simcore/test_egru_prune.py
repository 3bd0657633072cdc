"""evsim prune: magnitude pruning of EGRU netlists (simcore/egru/prune.py) writes a netlist that
validates, runs, keeps exactly the largest weights, and shows the parameter reduction."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import backends
import netspec
from evsim.cli import main
from simcore.egru import network, prune, reference, runner

sys.path.insert(0, os.path.dirname(__file__))
from egru_nets import random_netlist_text  # noqa: E402


def _write(tmp_path, seed):
    path = tmp_path / "net.yaml"
    path.write_text(random_netlist_text(seed))
    return str(path)


@pytest.mark.parametrize("seed", [1, 6, 9])
def test_density_one_reproduces_the_network(tmp_path, seed):
    """Pruning to density 1 rewrites every projection per gate from files, and the run is unchanged."""
    path = _write(tmp_path, seed)
    out = str(tmp_path / "pruned.yaml")
    prune.prune(path, 1.0, out)
    a, b = backends.run(path), backends.run(out)
    for name in a.spikes:
        np.testing.assert_array_equal(a.spikes[name][0], b.spikes[name][0])
        np.testing.assert_array_equal(a.spikes[name][1], b.spikes[name][1])
        if name in a.state:
            np.testing.assert_array_equal(a.state[name]["event_values"], b.state[name]["event_values"])
    assert a.counters["total"]["synaptic_ops"] == b.counters["total"]["synaptic_ops"]


def test_pruning_keeps_the_largest_weights_per_gate(tmp_path):
    """Each pruned gate keeps round(density x n_pre x n_post) synapses, exactly those of largest |w|."""
    path = _write(tmp_path, 12)
    out = str(tmp_path / "pruned.yaml")
    arrays = netspec.expand(netspec.load(path))
    report = prune.prune(path, 0.2, out)
    pruned = netspec.expand(netspec.load(out))
    got = {p.name: p for p in pruned.projections}
    for proj in arrays.projections:
        n_pre = sum(arrays.populations[x].size for x in proj.pre_pops)
        n_post = sum(arrays.populations[x].size for x in proj.post_pops)
        for g, (pre, post, w, d) in prune.gate_weights(arrays, proj.name).items():
            name = proj.name if g == network.PORT_GATES[proj.port][0] else f"{proj.name}_{network.GATE_NAMES[g]}"
            k = min(w.size, round(0.2 * n_pre * n_post))
            assert report[name]["kept"] == k == got[name].size
            want = np.sort(np.abs(w))[::-1][:k]
            np.testing.assert_array_equal(np.sort(np.abs(np.asarray(got[name].weight)))[::-1], want)


def test_pruned_network_runs_exactly_and_counts_the_parameter_reduction(tmp_path, capsys):
    """The pruned netlist validates, runs equal to the dense reference, and its counters show ~1/density."""
    path = tmp_path / "net.yaml"
    path.write_text("seed: 3\ntime: {steps: 200}\npopulations:\n"
                    "  x: {size: 10, model: sequence, sequence: {times: [0 s, 50 s, 51 s, 120 s], ids: [1, 2, 3, 4], "
                    "values: [1.5, -2, 2, 1]}}\n"
                    "  h: {size: 60, model: egru, params: {b_u: -1.5, b_z: {uniform: [-0.5, 1]}}}\n"
                    "projections:\n"
                    "  - {name: inp, from: x, to: h, connect: all_to_all, port: gates, "
                    "weight: {normal: {mean: 0, std: 1}}, delay: 0 s}\n"
                    "  - {name: rec, from: h, to: h, connect: all_to_all, port: gates, "
                    "weight: {normal: {mean: 0, std: 0.3}}, delay: 1 s}\n")
    out = str(tmp_path / "pruned.yaml")
    assert main(["prune", str(path), "--density", "0.1", "-o", out]) == 0
    assert "synapses kept" in capsys.readouterr().out
    assert main(["validate", out]) == 0
    gn = network.build(netspec.expand(netspec.load(out)))
    assert gn.csr1.size == 3 * 360 and gn.csr0.size == 3 * 60          # stored sparsely: only kept synapses
    ref = reference.run(gn)
    raw = runner.simulate(gn, np.arange(gn.n))
    eg = np.flatnonzero(gn.kinds[gn.unit_pop] == network.EGRU)
    np.testing.assert_allclose(raw.rec_c[:, eg], ref.c[:, eg], rtol=0, atol=1e-10)
    c = backends.run(out).counters["h"]
    assert c["parameter_reduction"] == pytest.approx(10.0)
    assert c["combined_reduction"] > c["parameter_reduction"]
    assert sorted(os.listdir(tmp_path)) == sorted(["net.yaml", "pruned.yaml"] + [
        f"pruned_{n}.npz" for n in ("inp", "inp_r", "inp_z", "rec", "rec_r", "rec_z")])


def test_pruning_a_chosen_projection_leaves_the_others(tmp_path):
    """--projections prunes only the named projection; the others are written as they were."""
    path = _write(tmp_path, 12)
    out = str(tmp_path / "pruned.yaml")
    net = netspec.load(path)
    first = net.projections[0].name
    prune.prune(path, 0.3, out, [first])
    back = netspec.load(out)
    kept = {p.name: p for p in back.projections}
    for p in net.projections[1:]:
        assert kept[p.name].weight == p.weight and kept[p.name].connect == p.connect


def test_prune_refuses_bad_arguments(tmp_path, capsys):
    """Density outside (0, 1], an unknown projection, or a spiking netlist: exit 2 with a message."""
    path = _write(tmp_path, 2)
    out = str(tmp_path / "p.yaml")
    assert main(["prune", path, "--density", "0", "-o", out]) == 2
    assert "--density must be in (0, 1]" in capsys.readouterr().err
    assert main(["prune", path, "--density", "0.5", "--projections", "nope", "-o", out]) == 2
    assert "no projection 'nope'" in capsys.readouterr().err
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert main(["prune", os.path.join(root, "yaml_models", "cuba.yaml"), "--density", "0.5", "-o", out]) == 2
    assert "event-gated" in capsys.readouterr().err
    assert not os.path.exists(out)
