"""Generating a network's engine module from the template and its models.

Numba cannot cache a function that receives other compiled functions as arguments, so the
engine is specialised by source: :func:`engine_for` writes a copy of
``engine_template.py`` whose dispatch functions call the network's model kernels by index
and whose ``GRID``, ``SOURCES`` and ``THREADS`` constants fix the time mode, whether source
code is needed and whether it runs the neurons in partitions on threads, imports it, and lets
Numba cache its compiled code beside it. The file's name is a hash of every source file of
simcore (``cache_stamp.package_stamp``: the template, the crossing search, the models and whatever
they build on), so an edited kernel gets a new engine and an unchanged one is never compiled
twice (see ``cache_dir``).
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import sys
from pathlib import Path

from netspec.atomic import write_text
from netspec.model_spec import NEURON, SOURCE

from .cache_stamp import inside, package_stamp
from .models import module as model_module

_HERE = Path(__file__).resolve().parent
_TEMPLATE = _HERE / "engine_template.py"
_STUB_LINE = ("from simcore._dispatch_stub import m_advance, m_apply, m_batch_ok, m_next_spike, m_reset, m_run_stage, "
              "m_terms, m_update_batch  # noqa: F401\n")
_MODE_LINE = "GRID = False\n"
_SOURCES_LINE = "SOURCES = True\n"
_ONLY_LINE = "ONLY_MODEL = -1\n"
_THREADS_LINE = "THREADS = False\n"

# name -> (arguments, default return statement or None)
_DISPATCH = {
    "advance": ("s, p, i, t0, t1, ref_until", None),
    "threshold_terms": ("s, p, i, rate, a, b", "return 0"),
    "apply_input": ("s, p, i, port, w, refractory", None),
    "reset": ("s, p, i", "return 0.0"),
    "next_spike": ("s, p, i, t_prev, key, dt", "return math.inf"),
    # optional: a model's updates taken in batches by the exact-mode engine (run_stage)
    "batch_ok": ("s, p, i", "return False"),
    "update_batch": ("s, p, prow, j, h, w, port, nb, cols, x_safe, bound", None),
}
#: dispatches inlined where they are called: a call passing the state and parameter rows costs
#: more than these kernels' arithmetic (CUBA: 0.60 s -> 0.42 s with predict and terms_at inlined too)
_INLINE = ("advance", "threshold_terms", "apply_input", "batch_ok")
_NAMES = {"advance": "m_advance", "threshold_terms": "m_terms", "apply_input": "m_apply", "reset": "m_reset",
          "next_spike": "m_next_spike", "batch_ok": "m_batch_ok", "update_batch": "m_update_batch"}


def cache_dir() -> Path:
    """Where generated engines (and Numba's compiled code for them) are kept:
    $EVSIM_CACHE_DIR, else ~/.cache/evsim."""
    base = os.environ.get("EVSIM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "evsim")
    path = Path(base) / f"engines-py{sys.version_info[0]}{sys.version_info[1]}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def dispatch_source(model_names) -> str:
    """The dispatch functions over ``model_names`` (model index = position in the tuple)."""
    lines = ["import math", "from simcore.jit import kernel"]
    mods = [model_module(n) for n in model_names]
    for k, mod in enumerate(mods):
        lines.append(f"import {mod.__name__} as _m{k}")
    for fname, (args, default) in _DISPATCH.items():
        inline = ', inline="always"' if fname in _INLINE else ""
        deco = f"@kernel(internal=True, refcounted=False{inline})"
        lines += ["", "", deco, f"def {_NAMES[fname]}(mid, {args}):"]
        branches = [(k, mod) for k, mod in enumerate(mods) if hasattr(mod, fname)]
        call_args = args.replace(" ", "")
        for n, (k, mod) in enumerate(branches):
            kw = "if" if n == 0 else "elif"
            call = f"_m{k}.{fname}({call_args.replace(',', ', ')})"
            lines.append(f"    {kw} mid == {k}:")
            lines.append(f"        {'return ' if default else ''}{call}")
        if default:
            lines.append(f"    {default}")
        elif not branches:
            lines.append("    return")
    # run_stage once per model, its index and kind passed as constants: Numba compiles a copy per
    # constant, in which the dispatches above reduce to that model's kernels (the engine over
    # every model ran CUBA 25-40 % slower than the one over lif_exp alone without this)
    stage_args = ("cfg, net, st, nf, ni, q, meta, slots, touched, ti, n_touched, spk_t, spk_i, order, out, counters, "
                  "k, ws")
    lines += ["", "", '@kernel(internal=True, refcounted=False, inline="always")',
              f"def m_run_stage(mid, {stage_args}):"]
    kinds = [(k, mod.MODEL.kind) for k, mod in enumerate(mods) if mod.MODEL.kind in (NEURON, SOURCE)]
    for n, (k, kind) in enumerate(kinds):
        lines.append(f"    {'if' if n == 0 else 'elif'} mid == {k}:")
        lines.append(f"        return run_stage({stage_args}, {k}, {kind == SOURCE})  # noqa: F821")
    lines.append("    return n_touched     # no other kind of model reaches this engine")
    return "\n".join(lines) + "\n"


def _fingerprint(model_names, grid: bool, threads: bool) -> str:
    # every source file of simcore (the template, crossing, the models and what they build on:
    # alif compiles lif_exp's kernels in), and any model file kept outside it
    h = hashlib.sha256(package_stamp().encode())
    for f in sorted({Path(model_module(n).__file__).resolve() for n in model_names}):
        if not inside(f):
            h.update(str(f.name).encode())
            h.update(f.read_bytes())
    h.update(repr((tuple(model_names), grid, threads)).encode())
    return h.hexdigest()[:16]


def all_model_names() -> tuple:
    """Every registered model that has kernels, in registry order."""
    from netspec import registry

    return tuple(n for n in registry.names() if _has_kernels(n))


ENGINES = ("auto", "own", "all")


def models_for(used, grid: bool, engine: str = "auto", threads: bool = False) -> tuple:
    """The models of the engine a network using the models ``used`` runs on. ``engine="own"``:
    its own models (``used``, in registry order); ``"all"``: every model; ``"auto"``: its own
    once that engine is compiled in this environment, else every model once that engine is
    compiled (``evsim warmup`` compiles it: one engine then serves every network at once), else
    its own, compiled now (less to compile than every model). The own engine runs CUBA
    about 4 % faster (0.270-0.277 s against 0.284 s, docs/engine.md). ``threads``: among the
    engines that run the neurons in partitions on threads."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)} (got {engine!r})")
    everything = all_model_names()
    used = set(used)
    own = tuple(n for n in everything if n in used)
    if engine == "all" or (engine == "auto" and not is_ready(own, grid, threads)
                           and is_ready(everything, grid, threads)):
        return everything
    return own


def _ready_marker(model_names, grid: bool, threads: bool) -> Path:
    return cache_dir() / f"{_module_name(tuple(model_names), grid, threads)}.ready"


def is_ready(model_names, grid: bool, threads: bool = False) -> bool:
    """Whether the engine over ``model_names`` has been compiled and run in this environment."""
    return _ready_marker(model_names, grid, threads).exists()


def mark_ready(model_names, grid: bool, threads: bool = False) -> None:
    """Records that the engine over ``model_names`` is compiled (called after a run)."""
    marker = _ready_marker(model_names, grid, threads)
    if not marker.exists():
        write_text(str(marker), "compiled\n")


def _module_name(model_names: tuple, grid: bool, threads: bool) -> str:
    kind = ("grid" if grid else "exact") + ("_threads" if threads else "")
    return f"evsim_engine_{kind}_{_fingerprint(model_names, grid, threads)}"


def _has_kernels(name: str) -> bool:
    try:
        model_module(name)
        return True
    except KeyError:
        return False


@contextlib.contextmanager
def compile_lock(module):
    """Held while a process compiles (or loads) an engine's code, so that two processes starting
    together do not both write Numba's cache files for it at the same time."""
    path = Path(module.__file__).with_suffix(".lock")
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def engine_for(model_names, grid: bool = False, threads: bool = False):
    """The compiled engine module for a network whose populations use ``model_names``
    (the order fixes each model's dispatch index), in grid or exact mode, able to split a
    stage's neurons over threads or not. Each mode has an engine of its own: the other mode's
    code is left out of it (CUBA's engine compiled about a fifth faster, 21.8 s -> 17.2 s, when
    this was introduced); so is the threads' code from the engine without threads."""
    model_names = tuple(model_names)
    name = _module_name(model_names, grid, threads)
    if name in sys.modules:
        return sys.modules[name]
    directory = cache_dir()
    path = directory / f"{name}.py"
    if not path.exists():
        template = _TEMPLATE.read_text()
        if _STUB_LINE not in template or any(template.count(x) != 1
                                             for x in (_MODE_LINE, _SOURCES_LINE, _ONLY_LINE, _THREADS_LINE)):
            raise RuntimeError("engine_template.py lost its dispatch import, GRID, SOURCES, ONLY_MODEL or "
                               "THREADS line")
        header = (f"# generated by simcore.codegen for models {', '.join(model_names)}, "
                  f"{'grid' if grid else 'exact'} mode: do not edit\n")
        sources = any(model_module(n).MODEL.kind == SOURCE for n in model_names)
        source = template.replace(_STUB_LINE, dispatch_source(model_names))
        source = source.replace(_MODE_LINE, f"GRID = {grid}\n").replace(_SOURCES_LINE, f"SOURCES = {sources}\n")
        source = source.replace(_THREADS_LINE, f"THREADS = {bool(threads)}\n")
        staged = [k for k, n in enumerate(model_names) if model_module(n).MODEL.kind in (NEURON, SOURCE)]
        source = source.replace(_ONLY_LINE, f"ONLY_MODEL = {staged[0] if len(staged) == 1 else -1}\n")
        write_text(str(path), header + source)
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    return importlib.import_module(name)
