"""simcore.cache_stamp: a cached kernel is recompiled when any file of the package changes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from numba import njit

import simcore.jit  # noqa: F401  (installs the locators)
from simcore import cache_stamp
from simcore.models import alif

_RUN = """
import json, sys
from pathlib import Path
import simcore.cache_stamp as cs
cs.ROOT = Path(sys.argv[1]) / "pkg"          # stands in for simcore
sys.path.insert(0, sys.argv[1])
from pkg import a
print(json.dumps([a.f(1.0), sum(a.f.stats.cache_hits.values()), sum(a.f.stats.cache_misses.values())]))
"""


def _write(path, text):
    path.write_text(textwrap.dedent(text))


def _run(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", _RUN, str(tmp_path)], env=env, capture_output=True, text=True,
                         check=True).stdout
    value, hits, misses = json.loads(out.strip().splitlines()[-1])
    return value, bool(hits), bool(misses)


def test_a_cached_kernel_sees_a_change_in_another_file_it_inlines(tmp_path):
    """f (file a) inlines g (file b): loaded from the cache while nothing changed, recompiled
    with g's new code once b changes (Numba alone would keep f's cached code: b is not f's file)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    _write(pkg / "__init__.py", "")
    _write(pkg / "a.py", """
        from numba import njit
        from .b import g

        @njit(cache=True)
        def f(x):
            return g(x)
        """)
    _write(pkg / "b.py", """
        from numba import njit

        @njit(cache=True, inline="always")
        def g(x):
            return x + 1.0
        """)
    assert _run(tmp_path) == (2.0, False, True)        # compiled
    assert _run(tmp_path) == (2.0, True, False)        # from the cache
    _write(pkg / "b.py", (pkg / "b.py").read_text().replace("x + 1.0", "x + 2.0"))
    assert _run(tmp_path) == (3.0, False, True)        # recompiled with the new g


def test_package_stamp_follows_content_and_locators_cover_simcore_only(tmp_path, monkeypatch):
    """The stamp changes with a file's content and comes back with it; a simcore kernel gets the
    package-stamped locator, a function elsewhere Numba's own."""
    assert cache_stamp.INSTALLED
    (tmp_path / "m.py").write_text("x = 1\n")
    monkeypatch.setattr(cache_stamp, "ROOT", tmp_path)
    stamps = []
    for text in ("x = 1\n", "x = 2\n", "x = 1\n"):
        (tmp_path / "m.py").write_text(text)
        cache_stamp.package_stamp.cache_clear()
        stamps.append(cache_stamp.package_stamp())
    monkeypatch.undo()
    cache_stamp.package_stamp.cache_clear()
    assert stamps[0] != stamps[1] and stamps[2] == stamps[0]
    assert getattr(alif.advance._cache._impl.locator, "_evsim_package_stamp", False)
    assert not getattr(njit(cache=True)(_write)._cache._impl.locator, "_evsim_package_stamp", False)
