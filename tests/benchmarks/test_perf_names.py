"""benchmarks/perf_names.py: the names it gives Numba's compiled functions for `perf`."""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from benchmarks import perf_names as PN  # noqa: E402


def test_a_mangled_name_shortens_to_the_functions_own_name():
    """Numba's _ZN<len><part>... names (module path, function, then the mangled signature), and
    the Python wrapper's, give the function's own name; anything else is kept whole."""
    assert PN._short("_ZN35evsim_engine_exact_b70d2ed09af83d379run_stageB3v53B62c8tJTIeFIjx") == "run_stage"
    assert PN._short("_ZN7simcore6models7lif_exp12update_batchB4v156B46c8tJTIeFIjxB2IKSgI4") == "update_batch"
    assert PN._short("_ZN7cpython35evsim_engine_exact_b70d2ed09af83d3711run_bucketsB3v29B46c8") == "run_buckets"
    assert PN._short("NRT_incref") == "NRT_incref"
