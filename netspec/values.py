"""Reading quantities and value specifications (constants and distributions) from a netlist."""
from __future__ import annotations

import math
import os

from . import spec as S
from .errors import Location, show
from .units import DIMENSIONLESS, Dim, UnitError, parse_quantity, parse_unit


def describe_dim(dim: Dim) -> str:
    return dim.name


def _example(dim: Dim) -> str:
    from .units import CURRENT, FREQUENCY, TIME, VOLTAGE

    return {TIME: "'20 ms'", VOLTAGE: "'-50 mV'", CURRENT: "'1.5 nA'", FREQUENCY: "'10 Hz'"}.get(dim, "")


def expected(dim: Dim) -> str:
    if dim == DIMENSIONLESS:
        return "a plain number"
    ex = _example(dim)
    return f"a {describe_dim(dim)}" + (f" such as {ex}" if ex else "")


def read_quantity(raw, dim: Dim, what: str, loc: Location, problems) -> float | None:
    """SI value of ``raw`` (a number, or a string with a unit of dimension ``dim``)."""
    if isinstance(raw, bool) or raw is None:
        problems.add(loc, f"{what}: wrong type (expected {expected(dim)}, got {show(raw)})")
        return None
    if isinstance(raw, (int, float)):
        value = float(raw)
        if math.isnan(value):
            problems.add(loc, f"{what}: not a number (expected {expected(dim)}, got nan)")
            return None
        return value
    if not isinstance(raw, str):
        problems.add(loc, f"{what}: wrong type (expected {expected(dim)}, got {show(raw)})")
        return None
    try:
        value, got_dim, has_unit = parse_quantity(raw)
    except UnitError as exc:
        problems.add(loc, f"{what}: {exc.reason} (expected {expected(dim)}, got {show(raw)}){exc.hint}")
        return None
    if not has_unit and dim != DIMENSIONLESS:
        problems.add(loc, f"{what}: missing unit (expected {expected(dim)}, got {raw!r}; "
                          f"write a plain number without quotes for SI)")
        return None
    if got_dim != dim:
        problems.add(loc, f"{what}: wrong unit (expected {expected(dim)}, got {raw!r}, a {describe_dim(got_dim)})")
        return None
    return value


def read_unit(raw, dim: Dim, what: str, loc: Location, problems) -> float | None:
    """The SI scale of a unit name such as 'ms' (for numbers read from files)."""
    if raw is None:
        return 1.0
    try:
        got, scale = parse_unit(str(raw))
    except UnitError as exc:
        problems.add(loc, f"{what}: {exc.reason} (expected a unit of {describe_dim(dim)}, got {show(raw)}){exc.hint}")
        return None
    if got != dim:
        problems.add(loc, f"{what}: wrong unit (expected a unit of {describe_dim(dim)}, got {raw!r})")
        return None
    return float(scale)


def resolve_path(raw: str, base_dir: str) -> str:
    path = os.path.expanduser(str(raw))
    if not os.path.isabs(path):
        path = os.path.join(base_dir, path)
    return os.path.normpath(path)


def read_value(doc, path, dim: Dim, what: str, problems, base_dir: str,
               allow: tuple = ("uniform", "normal", "values", "file", "beta")):
    """A :data:`netspec.spec.ValueSpec` from a quantity or a one-key distribution mapping.

    The structure was checked by the schema; this checks units and meaning.
    """
    raw = doc_get(doc.data, path)
    loc = doc.loc(path)
    if not isinstance(raw, dict):
        v = read_quantity(raw, dim, what, loc, problems)
        return None if v is None else S.Const(v, dim, loc)
    (kind, arg), = raw.items()
    apath = path + (kind,)
    aloc = doc.loc(apath)
    if kind not in allow:
        problems.add(doc.key_loc(apath), f"{what}: {kind!r} is not allowed here (expected a quantity or one of "
                                        + ", ".join(repr(a) for a in allow) + ")")
        return None
    if kind == "uniform":
        if len(arg) != 2:
            problems.add(aloc, f"{what}: uniform needs [low, high] (got {len(arg)} values)")
            return None
        lo = read_quantity(arg[0], dim, f"{what} (uniform low)", doc.loc(apath + (0,)), problems)
        hi = read_quantity(arg[1], dim, f"{what} (uniform high)", doc.loc(apath + (1,)), problems)
        if lo is None or hi is None:
            return None
        if not (lo <= hi) or math.isinf(lo) or math.isinf(hi):
            problems.add(aloc, f"{what}: uniform needs finite low <= high (got [{arg[0]}, {arg[1]}])")
            return None
        return S.Uniform(lo, hi, dim, aloc)
    if kind == "normal":
        got = {}
        for key in ("mean", "std", "min", "max"):
            if key in arg:
                got[key] = read_quantity(arg[key], dim, f"{what} (normal {key})", doc.loc(apath + (key,)), problems)
                if got[key] is None:
                    return None
        if got["std"] < 0:
            problems.add(doc.loc(apath + ("std",)), f"{what}: normal std must be >= 0 (got {arg['std']})")
            return None
        lo, hi = got.get("min"), got.get("max")
        if lo is not None and hi is not None and not lo < hi:
            problems.add(aloc, f"{what}: normal needs min < max (got min {arg['min']}, max {arg['max']})")
            return None
        if got["std"] > 0 and _normal_mass(got["mean"], got["std"], lo, hi) < 1e-4:
            problems.add(aloc, f"{what}: [min, max] holds almost none of this normal distribution "
                               f"(expected a range that covers the mean's neighbourhood)")
            return None
        return S.Normal(got["mean"], got["std"], dim, lo, hi, aloc)
    if kind == "values":
        vals = []
        for i, item in enumerate(arg):
            v = read_quantity(item, dim, f"{what} (values[{i}])", doc.loc(apath + (i,)), problems)
            if v is None:
                return None
            vals.append(v)
        return S.Values(tuple(vals), dim, aloc)
    if kind == "file":
        spec = arg if isinstance(arg, dict) else {"path": arg}
        fpath = resolve_path(spec["path"], base_dir)
        if not os.path.isfile(fpath):
            problems.add(aloc, f"{what}: file not found (got {spec['path']!r}, looked for {fpath})")
            return None
        ext = os.path.splitext(fpath)[1].lower()
        if ext not in (".npy", ".npz", ".csv"):
            problems.add(aloc, f"{what}: unsupported file type (expected .npy, .npz or .csv, got {ext or 'none'})")
            return None
        if ext in (".npz", ".csv") and not spec.get("key"):
            problems.add(aloc, f"{what}: a {ext} file needs 'key' (the array or column to read)")
            return None
        scale = read_unit(spec.get("unit"), dim, f"{what} (unit)", aloc, problems)
        if scale is None:
            return None
        return S.FromFile(fpath, dim, spec.get("key"), scale, spec.get("unit"), aloc)
    if kind == "beta":
        got = {}
        for key in ("a", "b"):
            got[key] = read_quantity(arg[key], DIMENSIONLESS, f"{what} (beta {key})", doc.loc(apath + (key,)), problems)
            if got[key] is None:
                return None
            if not 0 < got[key] < math.inf:
                problems.add(doc.loc(apath + (key,)), f"{what}: beta {key} must be > 0 and finite (got {arg[key]})")
                return None
        lo, hi = 0.0, 1.0
        if "low" in arg:
            lo = read_quantity(arg["low"], dim, f"{what} (beta low)", doc.loc(apath + ("low",)), problems)
        if "high" in arg:
            hi = read_quantity(arg["high"], dim, f"{what} (beta high)", doc.loc(apath + ("high",)), problems)
        if lo is None or hi is None:
            return None
        if not (lo < hi) or math.isinf(lo) or math.isinf(hi):
            problems.add(aloc, f"{what}: beta needs finite low < high (got [{arg.get('low', 0)}, {arg.get('high', 1)}])")
            return None
        return S.Beta(got["a"], got["b"], dim, lo, hi, aloc)
    if kind == "ternary":
        v = read_quantity(arg["value"], dim, f"{what} (ternary value)", doc.loc(apath + ("value",)), problems)
        p = arg["p"]
        if v is None:
            return None
        if len(p) != 3 or any(not 0 <= x <= 1 for x in p) or abs(sum(p) - 1) > 1e-9:
            problems.add(doc.loc(apath + ("p",)), f"{what}: ternary p must be three probabilities "
                                                 f"[p_minus, p_zero, p_plus] summing to 1 (got {p})")
            return None
        return S.Ternary(v, tuple(float(x) for x in p), dim, aloc)
    if kind == "column":
        spec = arg if isinstance(arg, dict) else {"name": arg}
        scale = read_unit(spec.get("unit"), dim, f"{what} (unit)", aloc, problems)
        if scale is None:
            return None
        return S.Column(spec["name"], dim, scale, spec.get("unit"), aloc)
    raise AssertionError(kind)


def _normal_mass(mean, std, lo, hi) -> float:
    def cdf(x):
        if x is None:
            return None
        return 0.5 * math.erfc(-(x - mean) / (std * math.sqrt(2)))

    a = cdf(lo) if lo is not None else 0.0
    b = cdf(hi) if hi is not None else 1.0
    return b - a


def value_range(v) -> tuple[float, float] | None:
    """Smallest and largest value a spec can produce, where known without drawing."""
    if isinstance(v, S.Const):
        return v.value, v.value
    if isinstance(v, S.Uniform):
        return v.low, v.high
    if isinstance(v, S.Normal):
        if v.std == 0:
            return v.mean, v.mean
        return (-math.inf if v.min is None else v.min), (math.inf if v.max is None else v.max)
    if isinstance(v, S.Values):
        return (min(v.values), max(v.values)) if v.values else None
    if isinstance(v, S.Ternary):
        return (-abs(v.value) if v.p[0] > 0 else 0.0), (abs(v.value) if v.p[2] > 0 else 0.0)
    if isinstance(v, S.Beta):
        return v.low, v.high
    return None


def default_value(par, loc: Location):
    """The value spec of a parameter's default (a constant, one of its choices, or a distribution
    such as ``{"beta": {"a": 1.2857, "b": 3}}``)."""
    if not par.default_is_distribution:
        return S.Const(par.default_si(), par.dim, loc)
    from .source import Located

    class _Sink(list):
        def add(self, _loc, msg):
            self.append(msg)

    sink = _Sink()
    v = read_value(Located({"d": par.default}, {}, {}), ("d",), par.dim, "default", sink, ".")
    if v is None:
        raise ValueError(f"bad default distribution {par.default!r}: {'; '.join(sink)}")
    return _relocated(v, loc)


def _relocated(v, loc):
    import dataclasses

    return dataclasses.replace(v, loc=loc)


def doc_get(data, path):
    for p in path:
        data = data[p]
    return data
