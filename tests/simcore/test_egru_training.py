"""EGRU training: the BPTT forward against the dense reference, BPTT gradients against central
finite differences of the loss with the true Heaviside (away from threshold), the sequence tasks,
and evsim train on an event-gated netlist."""
from __future__ import annotations

import numpy as np
import pytest

import netspec
from simcore.egru import bptt, network, reference

NET = """
name: egru_small
seed: {seed}
time: {{mode: steps, dt: 1 ms, duration: {steps} ms}}
populations:
  x: {{size: 3, model: sequence}}
  h: {{size: 6, model: egru, params: {{reset: {reset}, beta: {beta}, b_u: {{normal: {{mean: 0, std: 0.5}}}},
      b_r: {{normal: {{mean: 0, std: 0.5}}}}, b_z: {{normal: {{mean: 0, std: 0.5}}}}}}}}
  h2: {{size: 4, model: egru, params: {{reset: {reset}, beta: {beta}}}}}
  o: {{size: 3, model: egru, params: {{theta: 50, beta: {beta}}}}}
projections:
  - {{name: in_h, from: x, to: h, connect: all_to_all, port: gates, weight: {{normal: {{mean: 0, std: 1}}}}, delay: 0 ms}}
  - {{name: h_h, from: h, to: h, connect: all_to_all, port: gates, weight: {{normal: {{mean: 0, std: 0.8}}}}, delay: 1 ms}}
  - {{name: h_h2, from: h, to: h2, connect: {{probability: 0.7}}, port: gates, weight: {{normal: {{mean: 0.3, std: 1}}}}, delay: 0 ms}}
  - {{name: h2_h2z, from: h2, to: h2, connect: all_to_all, port: z, weight: {{normal: {{mean: 0, std: 1}}}}, delay: 1 ms}}
  - {{name: h2_h, from: h2, to: h, connect: all_to_all, port: u, weight: {{normal: {{mean: 0, std: 0.5}}}}, delay: 1 ms}}
  - {{name: h2_o, from: h2, to: o, connect: all_to_all, port: z, weight: {{normal: {{mean: 0, std: 1}}}}, delay: 0 ms}}
  - {{name: h_o, from: h, to: o, connect: all_to_all, port: gates, weight: {{normal: {{mean: 0, std: 1}}}}, delay: 1 ms}}
"""


def small(tmp_path, reset="event", beta=1.0, seed=3, steps=8):
    p = tmp_path / f"net_{reset}_{seed}.yaml"
    p.write_text(NET.format(reset=reset, beta=beta, seed=seed, steps=steps))
    arrays = netspec.expand(netspec.load(str(p)))
    return bptt.Model(arrays)


def batch(model, b=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, (b, model.gn.n_steps, 3)) * (rng.random((b, model.gn.n_steps, 3)) < 0.7)
    labels = rng.integers(0, 3, b)
    return x, labels


def with_input(gn, x_row, inp):
    """The GatedNet fed one sequence x_row (T, n_in) on the input slice (dense rows as events)."""
    import dataclasses

    steps, ids = np.nonzero(x_row)
    ptr = np.zeros(gn.n_steps + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(steps, minlength=gn.n_steps))
    return dataclasses.replace(gn, in_ptr=ptr, in_id=(ids + inp.start).astype(np.int32),
                               in_val=x_row[steps, ids].astype(np.float64))


@pytest.mark.parametrize("reset", ["event", "threshold"])
def test_forward_equals_reference(tmp_path, reset):
    """The batched BPTT forward gives the reference's c, y, u, r, z for every sequence to 1e-12."""
    model = small(tmp_path, reset)
    x, _ = batch(model, 5)
    inp = model.gn.pop_slice("x")
    tape = bptt.forward(model, x, inp)
    assert tape.H[:, :, model.gn.pop_slice("h")].mean() > 0.05  # events happen
    for k in range(x.shape[0]):
        ref = reference.run(with_input(model.gn, x[k], inp))
        for name, a in (("v", ref.y), ("c", ref.c), ("u", ref.u), ("r", ref.r), ("z", ref.z)):
            np.testing.assert_allclose(getattr(tape, name)[:, k], a, rtol=0, atol=1e-12, err_msg=name)


def test_model_weights_are_the_engines(tmp_path):
    """Model's per-gate weights rebuild exactly the engine's synapse arrays."""
    model = small(tmp_path)
    gn2 = model.gated_net()
    for a, b in ((model.gn.csr0, gn2.csr0), (model.gn.csr1, gn2.csr1)):
        assert np.array_equal(a.ptr, b.ptr) and np.array_equal(a.post, b.post) and np.array_equal(a.w, b.w)
        assert np.array_equal(a.gate, b.gate)


def _loss(model, x, labels, dense=False):
    g = model.gn
    return bptt.loss_and_grad(model, x, labels, g.pop_slice("x"), g.pop_slice("o"), 4.0,
                              np.arange(g.pop_slice("h").start, g.pop_slice("h2").stop), 0.0, dense,
                              need_grad=False).loss


def _check(model, x, labels, dense=False, what=("w", "b", "theta"), h=1e-5):
    g = model.gn
    res = bptt.loss_and_grad(model, x, labels, g.pop_slice("x"), g.pop_slice("o"), 4.0,
                             np.arange(g.pop_slice("h").start, g.pop_slice("h2").stop), 0.0, dense)
    egru = np.flatnonzero(g.kinds[g.unit_pop] == network.EGRU)
    params = []
    if "w" in what:
        params += [(s.w, gs, s.proj) for s, gs in zip(model.sets, res.grad.per_set(model))]
    if "b" in what:
        params.append((model.b[egru], res.grad.b[egru], "b"))
    if "theta" in what:
        params.append((model.theta, res.grad.theta, "theta"))
    nonzero = 0
    for arr, grad, name in params:
        fd = np.zeros(arr.shape)
        base = arr
        target = {"b": model.b, "theta": model.theta}.get(name)
        for idx in np.ndindex(arr.shape):
            vals = []
            for sgn in (1, -1):
                if target is None:
                    base[idx] += sgn * h
                elif name == "b":
                    target[egru[idx[0]], idx[1]] += sgn * h
                else:
                    target[idx] += sgn * h
                vals.append(_loss(model, x, labels, dense))
                if target is None:
                    base[idx] -= sgn * h
                elif name == "b":
                    target[egru[idx[0]], idx[1]] -= sgn * h
                else:
                    target[idx] -= sgn * h
            fd[idx] = (vals[0] - vals[1]) / (2 * h)
        # relative error; a gradient that is zero (the r gate of a unit without recurrent z input)
        # must come out below the finite differences' round-off
        err = np.linalg.norm(fd - grad) / max(np.linalg.norm(fd), 1e-4)
        assert err < 1e-6, (name, err)
        nonzero += np.linalg.norm(fd) > 1e-6
    assert nonzero >= len(params) - 3
    return res


def _margin(model, x):
    tape = bptt.forward(model, x, model.gn.pop_slice("x"))
    egru = np.flatnonzero(model.gn.kinds[model.gn.unit_pop] == network.EGRU)
    return np.min(np.abs(tape.ct[:, :, egru] - model.theta[egru])), tape


@pytest.mark.parametrize("reset", ["event", "threshold"])
def test_gradients_match_finite_differences(tmp_path, reset):
    """Away from threshold (no c~ within the pseudo-derivative's support), BPTT gives the exact
    gradient of weights (every gate port), biases and thresholds: relative error < 1e-6."""
    model = small(tmp_path, reset, beta=1000.0)
    x, labels = batch(model, 3, seed=1)
    margin, tape = _margin(model, x)
    assert margin > 2e-3, margin  # psi = 0 everywhere: the surrogate gradient is the exact one
    assert 0.05 < tape.H[:, :, model.gn.pop_slice("h")].mean() < 0.95
    res = _check(model, x, labels)
    th = res.grad.theta[model.gn.pop_slice("h")]
    if reset == "threshold":
        assert np.any(np.abs(th) > 1e-6)   # subtracting theta makes the loss depend on it
    else:
        assert np.all(th == 0.0)           # the event reset: no dependence away from threshold


def test_dense_gru_gradients_match_finite_differences(tmp_path):
    """The dense GRU option (y = c every step) has exact BPTT gradients (relative error < 1e-6)."""
    model = small(tmp_path, beta=1.0)
    x, labels = batch(model, 3, seed=2)
    _check(model, x, labels, dense=True, what=("w", "b"))


def test_surrogate_acts_near_threshold(tmp_path):
    """Near threshold the pseudo-derivative gives threshold gradients in the event reset form,
    where the exact one is zero (so the surrogate is actually used)."""
    model = small(tmp_path, "event", beta=1.0)
    x, labels = batch(model, 3, seed=1)
    g = model.gn
    res = bptt.loss_and_grad(model, x, labels, g.pop_slice("x"), g.pop_slice("o"), 4.0,
                             np.arange(g.pop_slice("h").start, g.pop_slice("h2").stop), 0.0)
    assert np.any(np.abs(res.grad.theta[g.pop_slice("h")]) > 1e-4)
