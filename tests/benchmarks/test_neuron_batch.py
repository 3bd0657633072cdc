"""benchmarks/neuron_batch.py: its scalar and batched updates agree with the engine's lif_exp kernels."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from benchmarks import neuron_batch as NB  # noqa: E402


def test_batched_and_scalar_updates_agree_with_the_engine_kernels(capsys):
    """Both timed variants reproduce lif_exp's advance, input and safe time to a few ulps."""
    assert NB.main(["--batch", "16", "--batches", "4", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("agreement"))
    states, safes = (float(x.split(",")[0].split()[0]) for x in line.split("within ")[1:])
    assert states < 1e-14 and safes < 1e-13
