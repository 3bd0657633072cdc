"""benchmarks/batch_updates.py: runs a netlist with and without batched updates and checks they agree."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
import batch_updates  # noqa: E402

CUBA = os.path.join(os.path.dirname(__file__), "..", "..", "yaml_models", "cuba.yaml")


def test_batch_updates_times_both_paths_after_checking_them(capsys):
    """On a short CUBA run the two paths agree within 1e-10 s and both get timed."""
    assert batch_updates.main([CUBA, "--pairs", "1", "--set", "time.duration=50 ms"]) == 0
    out = capsys.readouterr().out
    assert "with and without batches within" in out and "batched / one at a time:" in out


def test_batch_updates_refuses_grid_mode(capsys):
    """Grid mode has no batched path: the script says so and exits 2."""
    assert batch_updates.main([CUBA, "--set", "time.mode=grid"]) == 2
