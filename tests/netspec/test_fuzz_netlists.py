"""Property tests: random and mutated netlists never make netspec raise anything but NetlistError."""
from __future__ import annotations

import copy
import os

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netspec
from netspec_cases import FULL, GRID, MINIMAL, write_data_files, yaml_model_files

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
#: EVSIM_FUZZ_EXAMPLES=5000 runs each property longer (the default keeps the suite quick)
MAX_EXAMPLES = int(os.environ.get("EVSIM_FUZZ_EXAMPLES", "0")) or None


def _seeds():
    docs = [yaml.safe_load(t) for t in (FULL, GRID, MINIMAL)]
    for path in yaml_model_files():
        with open(path, encoding="utf-8") as fh:
            docs.append(yaml.safe_load(fh))
    return docs


SEEDS = _seeds()

_names = st.sampled_from(["exc", "inh", "a", "drive", "plain", "x", "time", "size", "p", "ms", ""])
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-3, max_value=12), st.sampled_from([0, -1, 2**31, 10**6, 10**40]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1 ms", "-1 ms", "0 ms", "0.05 ms", "20 mV", "-5 mV", "10 Hz", "1.5 nA", "1 foo",
                     "ms", "1e999 s", "1e-999 s", "inf s", "-inf mV", "1 mV/ms", "1 s^2", "x", "",
                     "all", "none", "all_to_all", "one_to_one", "lif", "lif_exp", "poisson", "spike_times",
                     "grid", "exact", "single", "exc", "inh", "tau.npy", "conn.npz", "missing.csv",
                     "vals.npz", "../x.yaml", "full.yaml"]),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(_names, st.sampled_from(
                                ["uniform", "normal", "values", "file", "ternary", "column", "mean", "std", "min",
                                 "max", "path", "key", "unit", "probability", "in_degree", "pairs", "like",
                                 "model", "params", "init", "spikes", "times", "ids", "include"])),
                                            inner, max_size=3)),
    max_leaves=8,
)


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _get(node, path):
    for p in path:
        node = node[p]
    return node


@st.composite
def mutated(draw):
    """A seed netlist with a few random edits: replace, delete, rename, insert, retype."""
    doc = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "delete", "rename", "insert", "retype", "swap"]))
        if not path:
            if op == "replace" and draw(st.booleans()):
                doc = draw(values)
            continue
        parent = _get(doc, path[:-1])
        key = path[-1]
        if op == "replace":
            parent[key] = draw(values)
        elif op == "delete":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.one_of(_names, st.text(max_size=6)))] = parent.pop(key)
        elif op == "insert":
            target = _get(doc, path)
            if isinstance(target, dict):
                target[draw(st.one_of(_names, st.text(max_size=6)))] = draw(values)
            elif isinstance(target, list):
                target.insert(draw(st.integers(0, len(target))), draw(values))
        elif op == "retype":
            v = parent[key]
            parent[key] = (str(v) if not isinstance(v, str) else
                           draw(st.sampled_from([[v], {v: v}, 1.0, None, v + " ms", v.upper()])))
        elif op == "swap":  # a value from elsewhere in the document (a name, a unit, a distribution)
            other = draw(st.sampled_from(paths))
            if other and not (other[:len(path)] == path or path[:len(other)] == other):
                parent[key] = copy.deepcopy(_get(doc, other))
    return doc


def _check(text, tmp_path, overrides=()):
    """Load, expand and dump: a netlist, or a NetlistError whose every line is 'location: message'."""
    try:
        net = netspec.loads(text, filename="fuzz.yaml", base_dir=str(tmp_path), overrides=overrides)
        netspec.expand(net)
        netspec.dumps(net)
    except netspec.NetlistError as exc:
        assert exc.problems, "a NetlistError must hold at least one problem"
        for p in exc.problems:
            assert p.message and str(p) == f"{p.loc}: {p.message}"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    write_data_files(tmp_path)
    monkeypatch.setenv("EVSIM_MEMORY_LIMIT", "200M")
    return tmp_path


@settings(max_examples=MAX_EXAMPLES or 300, **SETTINGS)
@given(doc=mutated())
def test_mutated_netlists_raise_only_netlist_error(doc, data_dir):
    """Seed netlists with random edits load, expand and dump or raise NetlistError, nothing else."""
    _check(yaml.safe_dump(doc, allow_unicode=True), data_dir)


@settings(max_examples=MAX_EXAMPLES or 100, **SETTINGS)
@given(doc=values)
def test_random_yaml_data_raises_only_netlist_error(doc, data_dir):
    """Arbitrary YAML data (any shape) gives a netlist or a NetlistError."""
    _check(yaml.safe_dump(doc, allow_unicode=True), data_dir)


@settings(max_examples=MAX_EXAMPLES or 150, **SETTINGS)
@given(text=st.one_of(st.text(max_size=200),
                      st.builds(lambda s, i, junk: s[:i] + junk + s[i:],
                                st.sampled_from([FULL, GRID, MINIMAL]), st.integers(0, 2000),
                                st.text(alphabet=":{}[],-!&*#|>'\"%@` \n\t", max_size=6))))
def test_random_text_raises_only_netlist_error(text, data_dir):
    """Random text and netlists with garbage characters inserted give a netlist or a NetlistError."""
    _check(text, data_dir)


override_paths = st.sampled_from(["seed", "time.duration", "time.mode", "populations.exc.size", "populations.exc.model",
                                  "populations.x.size", "projections.0.delay", "projections.ee.weight",
                                  "projections.-1.connect", "projections.9.x", "record.spikes", "name.x", "", "."])


@settings(max_examples=MAX_EXAMPLES or 60, **SETTINGS)
@given(sets=st.lists(st.tuples(override_paths, st.one_of(st.sampled_from(["1 ms", "-1", "[a]", "{", "grid", "{x: 1}",
                                                                            "lif", "", "0.5"]), st.text(max_size=5))),
                     max_size=3))
def test_random_overrides_raise_only_netlist_error(sets, data_dir):
    """Random --set overrides on a valid netlist give a netlist or a NetlistError."""
    _check(FULL, data_dir, overrides=[f"{k}={v}" for k, v in sets] + (["nothing"] if not sets else []))


arrays = st.one_of(
    st.lists(st.integers(-2, 9), min_size=0, max_size=6).map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=6).map(np.array),
    st.lists(st.text(max_size=2), min_size=1, max_size=3).map(np.array),
    st.lists(st.booleans(), max_size=4).map(lambda v: np.array(v, dtype=bool)),
    st.just(np.zeros((2, 3))),
)


@settings(max_examples=MAX_EXAMPLES or 80, **SETTINGS)
@given(cols=st.dictionaries(st.sampled_from(["pre", "post", "w", "d", "times", "ids"]), arrays, max_size=6),
       csv=st.text(alphabet="pre,post,w,d\n0123456789.-e#nai ", max_size=60),
       which=st.sampled_from(["npz", "csv"]))
def test_random_data_files_raise_only_netlist_error(cols, csv, which, data_dir):
    """Connection, value and spike files with any arrays or text give a netlist or a NetlistError."""
    np.savez(data_dir / "rand.npz", **cols)
    (data_dir / "rand.csv").write_text(csv)
    f = f"rand.{which}"
    head = "time: {duration: 1 s, mode: grid, dt: 0.1 ms}\nprecision: single\npopulations:\n  a: {size: 10, model: lif}\n"
    _check(head + f"  s: {{size: 10, model: spike_times, spikes: {{file: {f}}}}}\n", data_dir)
    _check(head + f"""projections:
  - {{from: a, to: a, connect: {{file: {f}}}, weight: {{column: w}}, delay: {{column: {{name: d, unit: ms}}}}}}
  - {{from: a, to: a, connect: one_to_one, weight: {{file: {{path: {f}, key: w}}}}, delay: {{file: {{path: {f}, key: d}}}}}}
""", data_dir)
