"""The benchmark scripts' rounds: every simulator once per round, ratios taken within a round."""
from __future__ import annotations

import importlib
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import _bench as B  # noqa: E402


class FakeRunner:
    """Stands in for B.Runner: returns the loop times it is given per job, round after round, and
    fails the runs whose printed label is in ``fail``."""

    def __init__(self, loops, fail=()):
        self.loops, self.fail, self.calls = loops, set(fail), []

    def run(self, label, job, env=None):
        self.calls.append((label, job.get("spikes_out")))
        if label in self.fail:
            return {"ok": False, "error": "crashed"}
        return {"ok": True, "runs": [{"loop": x} for x in self.loops[label.split(" (round")[0]].pop(0)]}


def test_rounds_alternate_the_order_and_save_spikes_once():
    """Round 2 runs the jobs in reverse order; only round 1 writes the spike files."""
    runner = FakeRunner({"a": [[1.0], [2.0], [3.0]], "b": [[4.0], [5.0], [6.0]]})
    specs = [("a", {"spikes_out": "a.npz"}, None), ("b", {"spikes_out": "b.npz"}, None)]
    jobs = B.run_rounds(runner, specs, 3)
    assert [c[0].split(" (")[0] for c in runner.calls] == ["a", "b", "b", "a", "a", "b"]
    assert [c[1] for c in runner.calls] == ["a.npz", "b.npz", None, None, None, None]
    assert jobs["a"]["rounds"] == [[1.0], [2.0], [3.0]]
    assert [r["loop"] for r in jobs["b"]["runs"]] == [4.0, 5.0, 6.0]


def test_ratio_is_taken_within_each_round():
    """A slow spell that hits both simulators in one round leaves that round's ratio unchanged."""
    runner = FakeRunner({"peer": [[2.0, 2.2], [8.0, 8.4]], "evsim": [[1.0, 1.0], [4.0, 4.4]]})
    jobs = B.run_rounds(runner, [("evsim", {}, None), ("peer", {}, None)], 2)
    r = B.ratio(jobs["peer"], jobs["evsim"])
    assert r["per_round"] == pytest.approx([2.1, 8.2 / 4.2])
    assert r["median"] == pytest.approx((2.1 + 8.2 / 4.2) / 2)
    assert r["n"] == 2


def test_a_job_that_fails_in_a_later_round_fails_and_is_not_rerun():
    """A failure in any round marks the job failed, with the round named, and later rounds skip it."""
    runner = FakeRunner({"a": [[1.0]] * 3, "b": [[1.0]] * 3}, fail={"b (round 2/3)"})
    jobs = B.run_rounds(runner, [("a", {}, None), ("b", {}, None)], 3)
    assert not jobs["b"]["ok"] and jobs["b"]["error"].startswith("round 2: crashed")
    assert "b (round 3/3)" not in [c[0] for c in runner.calls]
    assert B.ratio(jobs["b"], jobs["a"]) is None


@pytest.mark.parametrize("script", ["bench_cuba", "bench_sparse"])
def test_threads_below_one_is_refused_before_anything_runs(script, capsys):
    """--threads 0 stops the benchmark with a usage error (exit status 2)."""
    mod = importlib.import_module(script)
    with pytest.raises(SystemExit) as exc:
        mod.main(["--threads", "0"])
    assert exc.value.code == 2
    assert "--threads must be at least 1" in capsys.readouterr().err
