"""Load -> dump -> load gives an equal netlist (netspec.dumps / netspec.loads / netspec.save)."""
from __future__ import annotations

import os

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netspec
from netspec_cases import GRID, write_data_files, yaml_model_files


def _round_trip(net, base_dir):
    text = netspec.dumps(net, base_dir)
    again = netspec.loads(text, base_dir=base_dir)
    assert again == net
    assert netspec.dumps(again, base_dir) == text  # the written form is canonical
    return again


@pytest.mark.parametrize("path", yaml_model_files(), ids=os.path.basename)
def test_shipped_netlists_round_trip(path):
    """Every yaml_models/ file loads, dumps and loads back to an equal netlist."""
    net = netspec.load(path)
    _round_trip(net, os.path.dirname(path))


def test_full_example_round_trips_with_equal_arrays(full_path, tmp_path):
    """The example with every value form and rule round-trips, and expands to the same arrays."""
    net = netspec.load(full_path)
    again = _round_trip(net, str(tmp_path))
    a, b = netspec.expand(net), netspec.expand(again)
    for p, q in zip(a.projections, b.projections):
        for x, y in zip((p.pre, p.post, p.weight, p.delay), (q.pre, q.post, q.weight, q.delay)):
            assert x.dtype == y.dtype and np.array_equal(x, y)
    for name in a.populations:
        for key, arr in a.populations[name].params.items():
            assert np.array_equal(arr, b.populations[name].params[key])


def test_grid_example_round_trips():
    """A grid-mode, single-precision netlist keeps its mode, dt and precision through a round trip."""
    net = netspec.loads(GRID)
    again = _round_trip(net, ".")
    assert (again.time.mode, again.time.dt, again.precision) == ("grid", 1e-4, "single")


def test_save_writes_data_paths_that_load_from_the_new_place(full_path, tmp_path):
    """netspec.save writes data-file paths relative to the new file where they lie below it, else absolute."""
    net = netspec.load(full_path)
    beside = tmp_path / "copy.yaml"
    netspec.save(net, str(beside))
    text = beside.read_text(encoding="utf-8")
    assert "path: tau.npy" in text and "file: conn.npz" in text
    assert netspec.load(str(beside)) == net
    below = tmp_path / "sub" / "copy.yaml"
    below.parent.mkdir()
    netspec.save(net, str(below))
    text = below.read_text(encoding="utf-8")
    assert f"path: {tmp_path / 'tau.npy'}" in text and f"file: {tmp_path / 'conn.npz'}" in text
    assert netspec.load(str(below)) == net
    assert os.listdir(below.parent) == ["copy.yaml"]  # no temporary file left behind


def test_dump_resolves_like_and_fills_defaults():
    """The dump is canonical: 'like' is resolved and every parameter is written."""
    net = netspec.loads("""
time: {duration: 1 s}
populations:
  a: {size: 2, model: lif, params: {tau_m: 20 ms}}
  b: {size: 3, like: a}
""")
    data = yaml.safe_load(netspec.dumps(net))
    assert data["populations"]["b"] == {"size": 3, "model": "lif", "params": {
        "tau_m": "20 ms", "e_l": "-70 mV", "v_th": "-55 mV", "v_reset": "-70 mV", "t_ref": "2 ms", "i_bias": "0 V"}}


# ----------------------------------------------------------------------------- generated netlists
def _q(draw, lo, hi, units):
    """A quantity in [lo, hi] (SI) written with a random unit, or as a plain SI number."""
    x = draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))
    unit, scale = draw(st.sampled_from(units))
    if unit is None:
        return x
    return f"{x / scale!r} {unit}"


TIME_UNITS = [("ms", 1e-3), ("s", 1.0), ("us", 1e-6), (None, 1.0)]
VOLT_UNITS = [("mV", 1e-3), ("V", 1.0), ("uV", 1e-6), (None, 1.0)]


@st.composite
def value_spec(draw, lo, hi, units, n, forms, data_dir):
    """A value in one of the forms (constant, uniform, normal, values, file, ternary, column)."""
    form = draw(st.sampled_from(forms))
    if form == "const":
        return _q(draw, lo, hi, units)
    if form == "uniform":
        a, b = sorted(draw(st.floats(lo, hi)) for _ in range(2))
        return {"uniform": [a, b]}
    if form == "normal":
        a, b = sorted(draw(st.floats(lo, hi)) for _ in range(2))
        if b - a < (hi - lo) * 1e-3:
            b = a + (hi - lo) * 1e-3
        mean = (a + b) / 2
        std = draw(st.floats(0, (b - a) / 2))
        spec = {"mean": mean, "std": std, "min": a, "max": b}
        return {"normal": spec}
    if form == "values":
        return {"values": [_q(draw, lo, hi, units) for _ in range(n)]}
    if form == "file":
        return {"file": draw(st.sampled_from([{"path": "tau.npy", "unit": "ms"}, {"path": "vals.csv", "key": "t_ref",
                                                                                  "unit": "ms"}, "tau.npy"]))}
    if form == "ternary":
        p = draw(st.sampled_from([[0.25, 0.5, 0.25], [0.0, 0.0, 1.0], [0.1, 0.7, 0.2]]))
        return {"ternary": {"value": _q(draw, lo, hi, units), "p": p}}
    if form == "column":
        return {"column": draw(st.sampled_from(["w", {"name": "w", "unit": "mV"}]))}
    raise AssertionError(form)


@st.composite
def netlists(draw, data_dir):
    """Random valid netlists over every value form and connection rule."""
    grid = draw(st.booleans())
    n = 8  # exc has 8 neurons: the data files hold 8 values
    m = draw(st.integers(1, 5))
    pops = {
        "exc": {"size": n, "model": "lif_exp", "params": {
            "tau_m": draw(value_spec(1e-3, 0.1, TIME_UNITS, n, ["const", "uniform", "normal", "values", "file"],
                                     data_dir)),
            "e_l": draw(value_spec(-0.08, -0.06, VOLT_UNITS, n, ["const", "uniform", "normal", "values"], data_dir))},
            "init": {"v": draw(value_spec(-0.08, -0.06, VOLT_UNITS, n, ["const", "uniform", "normal", "values"],
                                          data_dir))}},
        "inh": {"size": m, "model": "lif", "params": {"i_bias": _q(draw, -1e-3, 1e-3, VOLT_UNITS)}},
        "src": {"size": 2, "model": "poisson", "params": {"rate": f"{draw(st.floats(0, 1e3))!r} Hz"}},
        "spk": {"size": 2, "model": "spike_times", "spikes": {"times": ["1 ms", "2 ms"], "ids": [1, 0]}},
    }
    rule = draw(st.sampled_from(["all_to_all", "one_to_one", "probability", "in_degree", "out_degree", "pairs",
                                 "file_npz", "file_csv"]))
    allow_self = draw(st.booleans())
    if rule == "all_to_all":
        connect = {"all_to_all": True, "allow_self": allow_self}
    elif rule == "one_to_one":
        connect = "one_to_one"
    elif rule == "probability":
        connect = {"probability": draw(st.floats(0, 1)), "allow_self": allow_self}
    elif rule in ("in_degree", "out_degree"):
        connect = {rule: draw(st.integers(0, 7)), "allow_self": allow_self, "multapses": draw(st.booleans())}
    elif rule == "pairs":
        connect = {"pairs": [[draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))] for _ in range(3)]}
    else:
        connect = {"file": "conn.npz" if rule == "file_npz" else "conn.csv"}
    count = {"all_to_all": n * n - (0 if allow_self else n), "one_to_one": n, "pairs": 3}.get(rule)
    wforms = ["const", "uniform", "normal", "ternary"] + (["values"] if count else []) \
        + (["column"] if rule == "file_npz" else [])
    dmin = 1e-4 if grid else 0.0
    projections = [
        {"name": "rec", "from": "exc", "to": "exc", "connect": connect,
         "weight": draw(value_spec(-2e-3, 2e-3, VOLT_UNITS, count or 0, wforms, data_dir)),
         "delay": draw(value_spec(max(dmin, 1e-4), 5e-3, TIME_UNITS, count or 0,
                                  ["const", "uniform", "normal"] + (["values"] if count else []), data_dir)),
         "port": draw(st.sampled_from(["exc", "inh"]))},
        {"from": ["src", "spk"], "to": ["inh", "exc"], "connect": {"in_degree": 2}, "weight": "1 mV",
         "delay": "1 ms"},
    ]
    return {
        "name": draw(st.sampled_from(["gen", "x y", "été"])),
        "seed": draw(st.integers(0, 2**63)),
        "time": {"duration": _q(draw, 0.01, 10.0, TIME_UNITS), "mode": "grid" if grid else "exact",
                 **({"dt": "0.1 ms"} if grid else {})},
        "precision": draw(st.sampled_from(["double", "single"])),
        "populations": pops,
        "projections": projections,
        "record": {"spikes": draw(st.sampled_from(["all", "none", ["exc"]])),
                   "state": {"exc": {"vars": ["v"], "neurons": draw(st.sampled_from(["all", [0, 7]])),
                                     **({"every": "0.2 ms"} if draw(st.booleans()) else {})}}},
    }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    write_data_files(d)
    np.savez(d / "conn.npz", pre=np.array([0, 1, 2, 7]), post=np.array([1, 2, 3, 0]), w=np.array([1.0, -2, 3, 0]))
    with open(d / "conn.csv", "w") as fh:
        fh.write("pre,post\n0,1\n5,5\n")
    return str(d)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_generated_netlists_round_trip(data, data_dir):
    """Generated netlists covering every value form and connection rule round-trip to equal netlists."""
    doc = data.draw(netlists(data_dir))
    net = netspec.loads(yaml.safe_dump(doc, allow_unicode=True), base_dir=data_dir)
    _round_trip(net, data_dir)
