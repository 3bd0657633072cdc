"""Training: optimisers, constraints, checkpoints, the trained netlist, tasks, the train: section and the commands."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import backends
import netspec
from evsim.cli import main
from simcore.learning import config as C
from simcore.learning import eventprop as ep
from simcore.learning import optim, tasks
from simcore.learning.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
YY = str(ROOT / "yaml_models" / "yinyang_delays.yaml")
SMALL = ["train.task_params.n_train=96", "train.task_params.n_val=48", "train.task_params.n_test=48"]


def small(path=YY, extra=()):
    return netspec.load(path, overrides=SMALL + list(extra))


def test_adam_step_matches_its_formula():
    """Two Adam steps equal the textbook update with bias correction."""
    x = np.array([1.0, -2.0])
    a = optim.Adam()
    g1, g2 = np.array([0.5, -1.0]), np.array([0.1, 0.3])
    a.step(x, g1, 0.1)
    a.step(x, g2, 0.1)
    m = 0.9 * (0.1 * g1) + 0.1 * g2
    v = 0.999 * (0.001 * g1 ** 2) + 0.001 * g2 ** 2
    x1 = np.array([1.0, -2.0]) - 0.1 * g1 / (np.abs(g1) + 1e-8)
    expect = x1 - 0.1 * (m / (1 - 0.81)) / (np.sqrt(v / (1 - 0.999 ** 2)) + 1e-8)
    assert np.allclose(x, expect, rtol=1e-12)


def test_sgd_momentum_and_schedules():
    """SGD with momentum accumulates; exponential and cosine schedules give their rates."""
    x = np.zeros(1)
    s = optim.SGD(momentum=0.5)
    s.step(x, np.ones(1), 1.0)
    s.step(x, np.ones(1), 1.0)
    assert x[0] == pytest.approx(-(1 + 1.5))
    assert optim.Schedule(0.1, "exponential", 0.5).at(3) == pytest.approx(0.0125)
    c = optim.Schedule(1.0, "cosine", epochs=5, final=0.1)
    assert c.at(0) == pytest.approx(1.0) and c.at(4) == pytest.approx(0.1) and c.at(2) == pytest.approx(0.55)


def test_clip_norm_shrinks_only_gradients_above_it():
    """clip_norm scales a gradient longer than the limit to the limit's length, in its direction, and leaves a shorter one as it is."""
    g = np.array([3.0, -4.0])
    assert np.allclose(optim.clip_norm(g, 1.0), [0.6, -0.8], rtol=1e-15)
    assert optim.clip_norm(g, 5.0) is g and optim.clip_norm(g, None) is g


def test_weight_decay_scales_with_the_schedule():
    """decay_weights multiplies by 1 - rate * lr_t / lr_0 in place, and rate 0 leaves x as it is."""
    x = np.array([2.0, -4.0])
    optim.decay_weights(x, 0.1, 0.05, 0.1)
    assert np.array_equal(x, [2.0 * 0.95, -4.0 * 0.95])
    optim.decay_weights(x, 0.0, 0.05, 0.1)
    assert np.array_equal(x, [2.0 * 0.95, -4.0 * 0.95])


def test_trainer_decays_the_trained_weights_only():
    """With weights.weight_decay the spiking trainer's step shrinks the trained weights by rate before the optimiser step (compared with the same step without); delays do not decay."""
    sets = ["train.params=both", "train.weights.optimizer=sgd", "train.delays.optimizer=sgd"]
    plain, decayed = (Trainer(small(extra=sets + extra)) for extra in ([], ["train.weights.weight_decay=0.25"]))
    trials = plain.splits.train.trials(np.arange(8), plain.input_offset)
    labels = plain.splits.train.labels[:8]
    w0, d0 = plain.net.weight.copy(), plain.net.delay.copy()
    for tr in (plain, decayed):
        tr.step(trials, labels, 0)
    i = plain.index["weight"]
    assert np.allclose(plain.net.weight[i] - decayed.net.weight[i], 0.25 * w0[i], rtol=1e-12, atol=1e-18)
    assert np.abs(w0[i]).max() > 0
    assert np.array_equal(plain.net.delay, decayed.net.delay) and not np.array_equal(plain.net.delay, d0)


def test_delays_stay_in_bounds():
    """A huge delay learning rate still leaves every delay inside [min, max]."""
    net = small(extra=["train.delays.lr=50 ms", "train.delays.min=1 ms", "train.delays.max=3 ms", "train.epochs=1"])
    tr = Trainer(net)
    tr.run_epoch()
    d = tr.net.delay
    assert d.min() >= 1e-3 and d.max() <= 3e-3
    assert np.any(d == 1e-3) or np.any(d == 3e-3)


def test_recurrent_delays_stay_above_zero(tmp_path):
    """Delays on a projection that closes a cycle are kept at min_recurrent or above."""
    text = Path(YY).read_text().replace(
        "record: {spikes: all}",
        "  - {name: hid_hid, from: hidden, to: hidden, connect: {probability: 0.05, allow_self: false}, "
        "weight: 0.1 V, delay: 1 ms}\nrecord: {spikes: all}")
    p = tmp_path / "rec.yaml"
    p.write_text(text)
    net = netspec.load(str(p), overrides=SMALL + ["train.delays.lr=50 ms", "train.delays.min_recurrent=0.5 ms"])
    tr = Trainer(net)
    assert tr.net.recurrent == {"in_hid": False, "hid_out": False, "hid_hid": True}
    tr.run_epoch()
    assert tr.net.get("hid_hid", "delay").min() >= 0.5e-3
    assert tr.net.get("in_hid", "delay").min() >= 0.0


def test_frozen_weights_do_not_move():
    """Delays-only training leaves the weights exactly as the netlist drew them (ternary stays ternary)."""
    net = small(str(ROOT / "yaml_models" / "yinyang_ternary.yaml"))
    tr = Trainer(net)
    w0, d0 = tr.net.weight.copy(), tr.net.delay.copy()
    tr.run_epoch()
    assert np.array_equal(tr.net.weight, w0) and not np.array_equal(tr.net.delay, d0)
    assert set(np.unique(np.abs(tr.net.get("in_hid", "weight")))) <= {0.0, 2.0}


def test_checkpoint_resume_gives_identical_results(tmp_path):
    """Two epochs in one go equal one epoch, a checkpoint, and a resumed second epoch, bit for bit."""
    net = small(extra=["train.epochs=2", "train.params=both"])
    a = Trainer(net, log=lambda m: None)
    a.fit(str(tmp_path / "a"), progress=False)
    b = Trainer(net, log=lambda m: None)
    b.fit(str(tmp_path / "b"), epochs=1, progress=False)
    c = Trainer(net, log=lambda m: None)
    c.fit(str(tmp_path / "c"), progress=False, resume=str(tmp_path / "b" / f"{net.name}.ckpt.npz"))
    assert np.array_equal(a.net.weight, c.net.weight) and np.array_equal(a.net.delay, c.net.delay)
    assert [m.row()[:-1] for m in a.history] == [m.row()[:-1] for m in c.history]


def test_select_best_val_keeps_the_best_validation_epoch(tmp_path):
    """train.select: best_val ends with the parameters of the epoch of highest validation accuracy:
    the same bits as a run stopped after that epoch, tested and exported as such, and kept across
    a resume from the checkpoint."""
    extra = ["train.epochs=6", "train.params=both"]
    net = small(extra=extra + ["train.select=best_val"])
    a = Trainer(net, log=lambda m: None)
    summary = a.fit(str(tmp_path / "a"), progress=False)
    val = [m.val_acc for m in a.history]
    best = int(np.argmax(val)) + 1
    assert best < 6, val            # else this test would not tell the two selections apart
    assert summary["selected_epoch"] == best and summary["val_acc"] == val[best - 1]
    b = Trainer(small(extra=extra), log=lambda m: None)
    b_summary = b.fit(str(tmp_path / "b"), epochs=best, progress=False)
    assert np.array_equal(a.net.weight, b.net.weight) and np.array_equal(a.net.delay, b.net.delay)
    assert summary["test_acc"] == b_summary["test_acc"]
    assert f"6 epochs, the parameters of epoch {best}" in (tmp_path / "a" / f"{net.name}_trained.yaml").read_text()
    # resumed after epoch best + 1: the best epoch's parameters come back from the checkpoint
    c = Trainer(net, log=lambda m: None)
    c.fit(str(tmp_path / "c"), epochs=best + 1, progress=False)
    d = Trainer(net, log=lambda m: None)
    d_summary = d.fit(str(tmp_path / "d"), progress=False, resume=str(tmp_path / "c" / f"{net.name}.ckpt.npz"))
    assert d_summary["selected_epoch"] == best
    assert np.array_equal(a.net.weight, d.net.weight) and np.array_equal(a.net.delay, d.net.delay)
    with pytest.raises(netspec.NetlistError, match="expected one of 'last', 'best_val'"):
        small(extra=["train.select=best"])


def test_results_do_not_depend_on_the_thread_count():
    """Forward spikes and summed gradients are the same bits with one thread and with all."""
    import numba

    net = small()
    tr = Trainer(net)
    d = tr.splits.train
    trials = d.trials(np.arange(40), tr.input_offset)
    out = []
    n0 = numba.get_num_threads()
    try:
        for n in (1, n0):
            numba.set_num_threads(n)
            sp = ep.forward(tr.net, trials)
            ev = tr.loss.evaluate(tr.net, tr.layout, sp, d.labels[:40])
            out.append((sp.t.copy(), *ep.backward(tr.net, sp, ev.dl_dt, ev.readouts, ev.dl_dv)))
    finally:
        numba.set_num_threads(n0)
    assert all(np.array_equal(x, y) for x, y in zip(out[0], out[1]))


def test_summary_names_the_software_that_trained(tmp_path):
    """The summary file records Python, numpy, numba and the BLAS build (trained results differ between builds)."""
    import numba
    import platform

    summary = Trainer(small(extra=["train.epochs=1"]), log=lambda m: None).fit(str(tmp_path), progress=False)
    on_disk = json.loads((tmp_path / "yinyang_delays_summary.json").read_text())
    sw = on_disk["software"]
    assert sw == summary["software"]
    assert (sw["numpy"], sw["numba"], sw["python"]) == (np.__version__, numba.__version__,
                                                        platform.python_version())
    assert sw["blas"] and sw["blas"] != "unknown"


def test_trained_netlist_loads_and_runs(tmp_path):
    """The written netlist reproduces the trained weights and delays and runs on the main engine like the trainer's forward pass."""
    net = small(extra=["train.epochs=1", "train.params=both"])
    tr = Trainer(net, log=lambda m: None)
    summary = tr.fit(str(tmp_path), progress=False)
    path = summary["trained_netlist"]
    assert path.endswith("_trained.yaml") and os.path.isfile(path[:-5] + ".npz")
    assert main(["validate", path]) == 0
    back = netspec.expand(netspec.load(path))
    for p in back.projections:
        assert np.array_equal(p.weight, tr.net.get(p.name, "weight"))
        assert np.array_equal(p.delay, tr.net.get(p.name, "delay"))
    res = backends.run(back)
    inp = back.populations["input"]
    sp = ep.forward(tr.net, ep.Trials.from_lists([(inp.spike_times, inp.spike_ids + inp.offset)]))
    t, n = sp.trial(0)
    hid = back.populations["hidden"]
    mine = np.sort(t[(n >= hid.offset) & (n < hid.offset + hid.size)])
    assert np.allclose(np.sort(res.spikes["hidden"][0]), mine, rtol=0, atol=1e-10)
    rows = (tmp_path / f"{net.name}_metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 2
    assert json.loads((tmp_path / f"{net.name}_summary.json").read_text())["test_acc"] >= 0


def test_yinyang_data_set():
    """Yin-Yang: class balanced, points in the circle, labels follow the published rule, splits differ by seed."""
    s = tasks.make("yinyang", {"n_train": 600, "n_val": 30, "n_test": 30}, 5, 3)
    counts = np.bincount(s.train.labels, minlength=3)
    assert counts.min() > 150
    from simcore.learning.tasks import yinyang as Y

    xy, lab = Y.points(200, 9)
    assert np.all(np.hypot(xy[:, 0] - 0.5, xy[:, 1] - 0.5) <= 0.5)
    assert np.array_equal(Y.which_class(xy[:, 0], xy[:, 1]), lab)
    assert Y.which_class(np.array([0.75, 0.25, 0.3, 0.7]), np.array([0.5, 0.5, 0.8, 0.2])).tolist() == [2, 2, 1, 0]
    t, i = s.train.sample(0)
    assert t.size == 5 and sorted(i) == [0, 1, 2, 3, 4] and np.all((t >= 2e-3) & (t <= 15e-3))
    assert not np.array_equal(s.val.times, s.test.times)


def test_digits_data_set():
    """Digits: scikit-learn's bundled 8x8 images, latency coded, seeded splits."""
    pytest.importorskip("sklearn")
    s = tasks.make("digits", {}, 64, 0)
    assert (s.train.n, s.val.n, s.test.n, s.n_classes) == (1257, 180, 360, 10)
    t, i = s.train.sample(0)
    assert np.all(i < 64) and np.all((t >= 2e-3) & (t <= 15e-3))


def test_delay_pattern_data_set():
    """The pattern task: every input's spike time has the same range in both classes; the classes differ in joint timing."""
    s = tasks.make("delay_pattern", {"n_train": 2000, "jitter": 0}, 6, 1)
    t = s.train.times.reshape(-1, 6)[np.argsort(s.train.ids.reshape(-1, 6), axis=1)[:, :1], 0] if False else None
    rel = []
    for k in range(200):
        tt, ii = s.train.sample(k)
        x = tt[np.argsort(ii)]
        rel.append((np.std(x - x[0]), s.train.labels[k]))
    spread1 = np.std([x for x, c in rel if c == 1]) if rel else 0
    assert spread1 < 1e-12                    # the pattern: fixed relative timing
    assert {c for _, c in rel} == {0, 1}


@pytest.mark.parametrize("override,message", [
    ("train.weights.lr=5 ms", "train.weights.lr: wrong unit"),
    ("train.task=yingyang", "unknown train.task 'yingyang'"),
    ("train.estimator=surrogate", "not available"),
    ("train.delays.min=-1 ms", "train.delays.min must be >= 0"),
    ("train.loss.tau0=0 ms", "train.loss.tau0 must be > 0"),
    ("train.delays.clip_norm=0", "train.delays.clip_norm must be > 0"),
    ("train.delays.weight_decay=0.1", "weight_decay applies to weights only"),
    ("train.weights.weight_decay=-0.1", "train.weights.weight_decay must be in \\[0, 1\\)"),
    ("train.loss.reg_activity=0.1", "reg_activity applies to event-gated"),
    ("train.loss.label_smoothing=0.1", "label_smoothing applies to event-gated"),
])
def test_bad_train_sections_are_located(override, message):
    """Meaningless train: values are NetlistErrors located where they were written (here the --set)."""
    net = netspec.load(YY, overrides=[override])
    with pytest.raises(netspec.NetlistError, match=message) as exc:
        C.parse(net)
    assert [str(p.loc) for p in exc.value.problems] == [f"--set {override}"]   # the value's origin


def test_task_and_netlist_must_fit(tmp_path):
    """An output population of the wrong size is refused with its location."""
    net = netspec.load(YY, overrides=SMALL + ["populations.output.size=4"])
    with pytest.raises(netspec.NetlistError, match="has 4 neurons, the task 'yinyang' has 3 classes"):
        Trainer(net)


def test_evsim_train_end_to_end(tmp_path, capsys):
    """evsim train on a tiny problem writes checkpoint, metrics, trained netlist and summary; --resume continues."""
    out = tmp_path / "run"
    args = ["train", YY, "-o", str(out), "--epochs", "1", "-q", *sum((["--set", s] for s in SMALL), [])]
    assert main(args) == 0
    text = capsys.readouterr()
    assert "test accuracy" in text.out and "epoch 1/1" in text.err
    names = sorted(os.listdir(out))
    assert names == ["yinyang_delays.ckpt.npz", "yinyang_delays_metrics.csv", "yinyang_delays_summary.json",
                     "yinyang_delays_trained.npz", "yinyang_delays_trained.yaml"]
    args2 = ["train", YY, "-o", str(out), "--epochs", "2", "-q", "--resume", str(out / "yinyang_delays.ckpt.npz"),
             *sum((["--set", s] for s in SMALL), [])]
    assert main(args2) == 0
    assert len((out / "yinyang_delays_metrics.csv").read_text().splitlines()) == 3
    # a checkpoint of another train section is refused
    assert main(["train", YY, "-o", str(out), "--params", "both", "--resume", str(out / "yinyang_delays.ckpt.npz"),
                 *sum((["--set", s] for s in SMALL), [])]) == 2
    assert "belongs to another" in capsys.readouterr().err


def test_evsim_train_bad_input_is_located(capsys):
    """Bad train: input exits with status 2 and says where it came from, no traceback."""
    assert main(["train", YY, "--lr-delays", "3 mV"]) == 2
    err = capsys.readouterr().err
    assert "--set train.delays.lr=3 mV: train.delays.lr: wrong unit" in err and "Traceback" not in err


def test_evsim_gradcheck_end_to_end(capsys):
    """evsim gradcheck prints a relative error per projection and group, below 1e-6 on Yin-Yang."""
    assert main(["gradcheck", str(ROOT / "yaml_models" / "yinyang_delays.yaml"), "--samples", "2",
                 "--max-params", "6", "--tol", "1e-6"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.strip().startswith(("in_hid", "hid_out"))]
    assert len(lines) == 4 and all("e-" in ln for ln in lines)


@pytest.mark.slow
def test_yinyang_delays_learn():
    """Yin-Yang, delays only with fixed random weights: a short run is well above chance (33 %)."""
    net = netspec.load(YY, overrides=["train.task_params.n_train=1500", "train.task_params.n_val=300",
                                      "train.task_params.n_test=300", "train.epochs=3"])
    tr = Trainer(net, log=lambda m: None)
    for _ in range(3):
        tr.run_epoch()
    assert tr.history[-1].val_acc > 0.8


@pytest.mark.slow
def test_delay_pattern_needs_delays():
    """The pattern task: trained delays detect the pattern, trained weights with equal delays stay far behind."""
    path = str(ROOT / "yaml_models" / "delay_pattern.yaml")
    small_task = ["train.task_params.n_train=1000", "train.task_params.n_val=300", "train.task_params.n_test=300",
                  "train.epochs=6"]
    d = Trainer(netspec.load(path, overrides=small_task), log=lambda m: None)
    w = Trainer(netspec.load(path, overrides=small_task + ["train.params=weights", "projections.in_out.delay=1 ms"]),
                log=lambda m: None)
    for tr in (d, w):
        for _ in range(6):
            tr.run_epoch()
    assert d.history[-1].val_acc > 0.85 and w.history[-1].val_acc < 0.75
