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


def _loss(model, x, labels, dense=False, smoothing=0.0):
    g = model.gn
    return bptt.loss_and_grad(model, x, labels, g.pop_slice("x"), g.pop_slice("o"), 4.0,
                              np.arange(g.pop_slice("h").start, g.pop_slice("h2").stop), 0.0, dense,
                              need_grad=False, smoothing=smoothing).loss


def _check(model, x, labels, dense=False, what=("w", "b", "theta"), h=1e-5, smoothing=0.0):
    g = model.gn
    res = bptt.loss_and_grad(model, x, labels, g.pop_slice("x"), g.pop_slice("o"), 4.0,
                             np.arange(g.pop_slice("h").start, g.pop_slice("h2").stop), 0.0, dense,
                             smoothing=smoothing)
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
                vals.append(_loss(model, x, labels, dense, smoothing))
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


def test_label_smoothing_loss_and_gradient():
    """Smoothed cross-entropy = (1 - eps) CE + eps * mean over classes of -log p, eps = 0 the plain
    CE, and its logit gradient p - q matches central differences of the batch mean."""
    rng = np.random.default_rng(4)
    logits, labels = rng.normal(0, 2, (5, 4)), rng.integers(0, 4, 5)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    ce = -logp[np.arange(5), labels]
    assert np.allclose(bptt.cross_entropy(logits, labels)[0], ce, rtol=0, atol=1e-13)
    per, grad = bptt.cross_entropy(logits, labels, 0.3)
    assert np.allclose(per, 0.7 * ce + 0.3 * -logp.mean(axis=1), rtol=0, atol=1e-13)
    fd = np.zeros_like(logits)
    for idx in np.ndindex(logits.shape):
        d = np.zeros_like(logits)
        d[idx] = 1e-6
        fd[idx] = (bptt.cross_entropy(logits + d, labels, 0.3)[0].mean()
                   - bptt.cross_entropy(logits - d, labels, 0.3)[0].mean()) / 2e-6
    assert np.allclose(grad, fd, rtol=0, atol=1e-8)


def test_gradients_with_label_smoothing_match_finite_differences(tmp_path):
    """BPTT carries the smoothed loss's gradient through the network exactly (dense GRU)."""
    model = small(tmp_path, beta=1.0)
    x, labels = batch(model, 3, seed=2)
    _check(model, x, labels, dense=True, what=("w", "b"), smoothing=0.2)


def test_surrogate_acts_near_threshold(tmp_path):
    """Near threshold the pseudo-derivative gives threshold gradients in the event reset form,
    where the exact one is zero (so the surrogate is actually used)."""
    model = small(tmp_path, "event", beta=1.0)
    x, labels = batch(model, 3, seed=1)
    g = model.gn
    res = bptt.loss_and_grad(model, x, labels, g.pop_slice("x"), g.pop_slice("o"), 4.0,
                             np.arange(g.pop_slice("h").start, g.pop_slice("h2").stop), 0.0)
    assert np.any(np.abs(res.grad.theta[g.pop_slice("h")]) > 1e-4)


# ---------------------------------------------------------------------------------------- tasks, trainer
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

from evsim.cli import main  # noqa: E402
from simcore.egru import tasks  # noqa: E402
from simcore.egru.training import EgruTrainer, parse  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RECALL = str(ROOT / "yaml_models" / "egru_recall.yaml")
TINY = ["train.task_params.n_train=64", "train.task_params.n_val=32", "train.task_params.n_test=32",
        "populations.hidden.size=12", "train.batch_size=16"]


def test_recall_task():
    """recall: the cue (1 on the label's channel) comes once within the cue window; splits differ."""
    s = tasks.make("recall", {"steps": 12, "n_train": 50, "n_val": 5, "n_test": 5}, 8, 3)
    x, y = s.train.x, s.train.labels
    assert x.shape == (50, 12, 8) and s.n_steps == 12 and s.n_classes == 4
    cue = x[:, :, :4]
    assert np.all((cue == 1).sum(axis=(1, 2)) == 1) and np.all((cue != 0).sum(axis=(1, 2)) == 1)
    step, cls = np.nonzero(cue == 1)[1:]
    assert np.all(step < 5) and np.array_equal(cls, y)
    assert not np.array_equal(s.val.x, s.test.x)
    with pytest.raises(tasks.TaskError, match="n_classes \\+ n_noise = 8"):
        tasks.make("recall", {}, 5, 0)


def test_seq_digits_task():
    """seq_digits: 64 steps of one pixel (or 8 rows of 8), values p/16 in [0, 1], 1257/180/360 split."""
    pytest.importorskip("sklearn")
    s = tasks.make("seq_digits", {}, 1, 1)
    assert s.train.x.shape == (1257, 64, 1) and s.val.n == 180 and s.test.n == 360
    assert s.train.x.min() == 0 and s.train.x.max() == 1
    r = tasks.make("seq_digits", {"order": "row"}, 8, 1)
    np.testing.assert_array_equal(r.train.x.reshape(-1, 64), s.train.x.reshape(-1, 64))
    with pytest.raises(tasks.TaskError, match="needs an input population of 8"):
        tasks.make("seq_digits", {"order": "row"}, 1, 1)


def test_shift_images_translates_each_image_with_zero_fill():
    """shift_images: out[b, i, j] = img[b, i - dy, j - dx] (0 outside), one (dy, dx) per image in
    {-shift..shift}^2, as a loop over pixels computes it; pixel and row sequences alike."""
    x = np.random.default_rng(0).random((40, 64, 1))
    out = tasks.shift_images(x, 2, np.random.default_rng(5))
    dy, dx = np.random.default_rng(5).integers(-2, 3, (2, 40))
    assert {-2, 2} <= set(dy) and {-2, 2} <= set(dx)
    for b in range(40):
        img, want = x[b].reshape(8, 8), np.zeros((8, 8))
        for i in range(8):
            for j in range(8):
                if 0 <= i - dy[b] < 8 and 0 <= j - dx[b] < 8:
                    want[i, j] = img[i - dy[b], j - dx[b]]
        np.testing.assert_array_equal(out[b].reshape(8, 8), want)
    rows = tasks.shift_images(x.reshape(40, 8, 8), 2, np.random.default_rng(5))
    np.testing.assert_array_equal(rows.reshape(40, 64), out.reshape(40, 64))


def test_seq_digits_shift_applies_to_training_batches_only(tmp_path):
    """task_params.shift: training batches are translated images (seeded per epoch and batch, so a
    resumed run trains on the same ones); the held-out sets are not; shifts above 3 are refused."""
    pytest.importorskip("sklearn")
    s = tasks.make("seq_digits", {"shift": 1}, 1, 1)
    plain = tasks.make("seq_digits", {}, 1, 1)
    np.testing.assert_array_equal(s.train.x, plain.train.x)
    np.testing.assert_array_equal(s.test.x, plain.test.x)
    assert s.augment is not None and plain.augment is None and "shifts up to 1" in s.description
    with pytest.raises(tasks.TaskError, match="shift: expected 0 to 3"):
        tasks.make("seq_digits", {"shift": 4}, 1, 1)
    rows = str(ROOT / "yaml_models" / "egru_digits_rows.yaml")
    sets = sum((["--set", o] for o in ("populations.hidden.size=8", "train.task_params.shift=1",
                                        "train.batch_size=128")), [])
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["train", rows, "-o", str(a), "--epochs", "2", "-q", *sets]) == 0
    assert main(["train", rows, "-o", str(b), "--epochs", "1", "-q", *sets]) == 0
    assert main(["train", rows, "-o", str(b), "--epochs", "2", "-q", "--resume",
                 str(b / "egru_digits_rows.ckpt.npz"), *sets]) == 0
    za, zb = np.load(a / "egru_digits_rows.ckpt.npz"), np.load(b / "egru_digits_rows.ckpt.npz")
    for k in za.files:
        if k.startswith(("w/", "b", "theta")):
            np.testing.assert_array_equal(za[k], zb[k], err_msg=k)
    c = tmp_path / "c"   # the same without shifts: other weights
    assert main(["train", rows, "-o", str(c), "--epochs", "2", "-q", *sets[:2], *sets[4:]]) == 0
    assert not np.array_equal(np.load(c / "egru_digits_rows.ckpt.npz")["w/0"], za["w/0"])


@pytest.mark.parametrize("override,message", [
    ("train.task=digits", "not a task for event-gated networks"),
    ("train.estimator=eventprop", "event-gated networks train with surrogate"),
    ("train.loss.kind=ttfs", "event-gated networks train with cross_entropy"),
    ("train.params=[weights, delays]", "'delays' cannot be trained"),
    ("train.weights.lr=0", "train.weights.lr must be > 0"),
    ("train.loss.tau0=1 ms", "train.loss.tau0 does not apply"),
    ("train.weights.clip_norm=-1", "train.weights.clip_norm must be > 0"),
    ("train.weights.weight_decay=1.5", r"train.weights.weight_decay must be in \[0, 1\)"),
    ("train.loss.label_smoothing=1", r"train.loss.label_smoothing must be in \[0, 1\)"),
    ("train.loss.label_smoothing=-0.1", r"train.loss.label_smoothing must be in \[0, 1\)"),
    ("train.loss.scale=0", "train.loss.scale must be > 0"),
    ("train.loss.reg_activity=-1", "train.loss.reg_activity must be >= 0"),
    ("train.loss.reg_silent=1", "reg_silent does not apply to event-gated networks"),
])
def test_bad_gated_train_sections_are_located(override, message):
    """Train sections an event-gated network cannot use are NetlistErrors with their line."""
    net = netspec.load(RECALL, overrides=[override])
    with pytest.raises(netspec.NetlistError, match=message) as exc:
        parse(net)
    assert all(p.loc is not None for p in exc.value.problems)


def test_evsim_train_bad_gated_input_exits_2(capsys):
    """evsim train with a bad train: value on an EGRU netlist exits 2 with file:line:col, no traceback."""
    assert main(["train", RECALL, "--set", "train.loss.kind=mse", "-q"]) == 2
    err = capsys.readouterr().err
    assert "train.loss 'mse'" in err and "Traceback" not in err


def test_output_size_must_fit_the_task():
    """An output population of the wrong size is refused with its location."""
    net = netspec.load(RECALL, overrides=TINY + ["populations.readout.size=3"])
    with pytest.raises(netspec.NetlistError, match="has 3 units, the task 'recall' has 4 classes") as exc:
        EgruTrainer(net)
    assert "egru_recall.yaml:" in str(exc.value)


def test_clip_norm_limits_the_step():
    """With clip_norm, an SGD step moves all trained parameters together by lr * clip_norm when the gradient is longer."""
    net = netspec.load(RECALL, overrides=TINY + ["train.weights.optimizer=sgd", "train.weights.lr=0.1",
                                                 "train.weights.clip_norm=1e-3"])
    tr = EgruTrainer(net)
    x, y = tr.splits.train.trials(np.arange(16)), tr.splits.train.labels[:16]
    assert np.linalg.norm(tr._flat(tr._run(x, y, True).grad)) > 1e-3
    p0 = tr._flat()
    tr.step(x, y, 0)
    assert np.linalg.norm(tr._flat() - p0) == pytest.approx(0.1 * 1e-3, rel=1e-9)


def test_weight_decay_shrinks_weights_before_the_step_and_spares_biases_and_thresholds():
    """weight_decay: an SGD step is w (1 - rate lr_t / lr_0) - lr_t g on the weights, b - lr_t g and theta - lr_t g on the rest."""
    sets = TINY + ["train.weights.optimizer=sgd", "train.weights.lr=0.1", "train.weights.lr_decay=0.5"]
    plain, decayed = (EgruTrainer(netspec.load(RECALL, overrides=sets + extra))
                      for extra in ([], ["train.weights.weight_decay=0.2"]))
    x, y = plain.splits.train.trials(np.arange(16)), plain.splits.train.labels[:16]
    p0 = plain._flat()
    assert np.array_equal(decayed._flat(), p0)
    for tr in (plain, decayed):
        tr.step(x, y, 1)          # epoch 1: lr_t = 0.05, the decay 0.2 * 0.5
    n = decayed._n_weights
    assert 0 < n < p0.size
    shrink = np.zeros(p0.size)
    shrink[:n] = 0.2 * 0.5 * p0[:n]
    assert np.allclose(plain._flat() - decayed._flat(), shrink, rtol=1e-12, atol=1e-15)
    assert np.abs(shrink).max() > 1e-3


def test_training_reduces_the_loss_and_moves_only_trained_parameters():
    """A few steps lower the batch loss; untrained thresholds (params: weights) stay as drawn."""
    net = netspec.load(RECALL, overrides=TINY + ["train.params=weights", "train.task_params.steps=10",
                                                 "train.weights.lr=0.02", "train.loss.reg_activity=0"])
    tr = EgruTrainer(net)
    theta0, b0 = tr.model.theta.copy(), tr.model.b.copy()
    w0 = [s.w.copy() for s in tr.model.sets]
    x, y = tr.splits.train.trials(np.arange(64)), tr.splits.train.labels[:64]
    first = tr._run(x, y, False).loss
    for _ in range(60):
        tr.step(x, y, 0)
    assert tr._run(x, y, False).loss < first - 0.5
    assert np.array_equal(tr.model.theta, theta0) and np.array_equal(tr.model.b, b0)
    still = [(s.proj, s.gate) for a, s in zip(w0, tr.model.sets) if np.array_equal(a, s.w)]
    assert still == [("hid_out", network.R)]   # the readout's r gate scales no recurrent z: no gradient


def test_evaluate_counts_each_hidden_units_events():
    """evaluate(silent=True): each hidden unit's events per sample, zero for a unit whose threshold c cannot reach."""
    tr = EgruTrainer(netspec.load(RECALL, overrides=TINY))
    tr.model.theta[tr.hidden[0]] = 10.0            # c < 1 always
    data = tr.splits.test
    _, _, events, silent, per_unit = tr.evaluate(data, batch=7, silent=True)
    H = bptt.forward(tr.model, data.trials(np.arange(data.n)), tr.inp).H[:, :, tr.hidden]
    np.testing.assert_allclose(per_unit, H.sum(axis=(0, 1)) / data.n, rtol=1e-12)
    assert per_unit[0] == 0 and per_unit.sum() > 0
    assert events == pytest.approx(H.sum() / data.n, rel=1e-12)
    assert silent == pytest.approx(1 - per_unit.sum() / (H.shape[0] * tr.hidden.size), rel=1e-12)


def test_evsim_train_egru_end_to_end(tmp_path, capsys):
    """evsim train on an EGRU netlist writes checkpoint, metrics, summary (with sparsity) and a trained
    netlist that rebuilds the trained network; --resume gives the uninterrupted run's weights."""
    sets = sum((["--set", s] for s in TINY), [])
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["train", RECALL, "-o", str(a), "--epochs", "2", "-q", *sets]) == 0
    text = capsys.readouterr()
    assert "silent per step" in text.out and "epoch 2/2" in text.err
    assert {"egru_recall.ckpt.npz", "egru_recall_metrics.csv", "egru_recall_summary.json",
            "egru_recall_trained.yaml", "egru_recall_trained.npz"} <= set(os.listdir(a))
    summary = json.loads((a / "egru_recall_summary.json").read_text())
    assert 0 <= summary["test_silent_fraction"] <= 1 and summary["dense_gru"] is False
    assert main(["train", RECALL, "-o", str(b), "--epochs", "1", "-q", *sets]) == 0
    assert main(["train", RECALL, "-o", str(b), "--epochs", "2", "-q", "--resume", str(b / "egru_recall.ckpt.npz"),
                 *sets]) == 0
    za, zb = np.load(a / "egru_recall.ckpt.npz"), np.load(b / "egru_recall.ckpt.npz")
    for k in za.files:
        if k.startswith(("w/", "b", "theta", "opt/")):
            np.testing.assert_array_equal(za[k], zb[k], err_msg=k)
    # the trained netlist runs the trained network: same forward as the trainer's model
    trained = bptt.Model(netspec.expand(netspec.load(str(a / "egru_recall_trained.yaml"))))
    tr = EgruTrainer(netspec.load(RECALL, overrides=TINY))
    tr.load_checkpoint(str(a / "egru_recall.ckpt.npz"))
    x = tr.splits.test.trials(np.arange(4))
    np.testing.assert_array_equal(bptt.forward(trained, x, tr.inp).v, bptt.forward(tr.model, x, tr.inp).v)
    # the units that sent no event on the test set, counted from the trained model's own forward pass
    test = tr.splits.test
    H = bptt.forward(tr.model, test.trials(np.arange(test.n)), tr.inp).H[:, :, tr.hidden]
    assert summary["test_hidden_units_without_events"] == int(np.sum(H.sum(axis=(0, 1)) == 0))
    assert summary["hidden_units"] == tr.hidden.size
    # a dense-GRU checkpoint is another run's
    assert main(["train", RECALL, "-o", str(b), "--epochs", "3", "-q", "--dense-gru", "--resume",
                 str(b / "egru_recall.ckpt.npz"), *sets]) == 2
    assert "belongs to another" in capsys.readouterr().err


@pytest.mark.slow
def test_egru_learns_recall_sparsely():
    """EGRU on a short recall task: well above chance (25 %) with most units silent per step."""
    net = netspec.load(RECALL, overrides=["train.task_params.n_val=100", "train.task_params.n_test=500"])
    tr = EgruTrainer(net)
    for _ in range(3):
        tr.run_epoch()
    _, acc, _, silent, _ = tr.evaluate(tr.splits.test, silent=True)
    assert acc > 0.9 and silent > 0.8, (acc, silent)
