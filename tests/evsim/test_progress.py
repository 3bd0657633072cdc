"""The run's progress bar times the run, not the compilation before it."""
from __future__ import annotations

import time

from evsim.commands.run import ProgressBar


def test_elapsed_time_counts_from_the_start_of_the_run():
    """A bar made 0.3 s before a run's first report, which says the run took 0.05 s so far,
    shows about 0.05 s elapsed (the compile time before the run is not in its ETA)."""
    bar = ProgressBar(1.0)
    time.sleep(0.3)
    bar(0.1, 1.0, 1000, 0.05)
    elapsed = bar.bar.format_dict["elapsed"]
    bar.close()
    assert 0.04 <= elapsed < 0.2
