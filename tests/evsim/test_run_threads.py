"""evsim run --threads: checked before anything runs."""
from __future__ import annotations

from pathlib import Path

from evsim.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_threads_below_one_is_a_usage_error(capsys):
    """--threads 0 exits with status 2 and one message, without a traceback."""
    code = main(["run", str(REPO / "yaml_models" / "single_spike_input.yaml"), "--threads", "0", "-q"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "--threads must be >= 1 (got 0)" in err
    assert "Traceback" not in err
