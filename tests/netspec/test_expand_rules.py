"""Expansion (netspec.expand): reproducible from the seed, exact connection rules, values with units."""
from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import netspec
from netspec_cases import GRID, REPO, write_data_files
from netspec.memory import expected_synapses


def net(text, **kw):
    return netspec.loads(textwrap.dedent(text), **kw)


def expand(text, **kw):
    return netspec.expand(net(text, **kw))


def proj(text, name=None, **kw):
    """The one (or the named) projection of an expanded netlist."""
    e = expand(text, **kw)
    return e.projections[0] if name is None else next(p for p in e.projections if p.name == name)


def pair_list(p):
    return list(zip(p.pre.tolist(), p.post.tolist()))


def digest(expanded) -> str:
    h = hashlib.sha256()
    for p in expanded.projections:
        for a in (p.pre, p.post, p.weight, p.delay):
            h.update(np.ascontiguousarray(a).tobytes())
    for pop in expanded.populations.values():
        for d in (pop.params, pop.init):
            for k in sorted(d):
                h.update(np.ascontiguousarray(d[k]).tobytes())
    return h.hexdigest()


TWO = """\
seed: {seed}
time: {{duration: 1 s}}
populations:
  a: {{size: 200, model: lif}}
  b: {{size: 150, model: lif_exp}}
projections:
{extra}  - {{name: ab, from: a, to: [b, a], connect: {{probability: 0.1}}, weight: {{normal: {{mean: 1 mV, std: 0.5 mV}}}},
     delay: {{uniform: [1 ms, 5 ms]}}}}
  - {{name: ba, from: b, to: a, connect: {{in_degree: 7, allow_self: false}}, weight: {{uniform: [-1 mV, 0 mV]}}, delay: 2 ms}}
"""


# ----------------------------------------------------------------------------- reproducibility
def test_expansion_is_bit_for_bit_reproducible(full_path):
    """The same netlist and seed give identical arrays every time."""
    net1 = netspec.load(full_path)
    assert digest(netspec.expand(net1)) == digest(netspec.expand(netspec.load(full_path)))


def test_different_seed_gives_different_arrays():
    """Changing the seed changes the random connectivity and values."""
    a = netspec.expand(net(TWO.format(seed=1, extra="")))
    b = netspec.expand(net(TWO.format(seed=2, extra="")))
    assert not np.array_equal(a.projections[0].pre, b.projections[0].pre) or \
        not np.array_equal(a.projections[0].post, b.projections[0].post)
    assert not np.array_equal(a.projections[0].delay[:10], b.projections[0].delay[:10])


@pytest.mark.parametrize("where", ["before", "after"])
def test_adding_a_projection_changes_no_other_projection(where):
    """Each projection draws from its own stream: adding one (before or after) leaves the others' arrays alone."""
    extra = "  - {name: new, from: b, to: b, connect: {probability: 0.5}, weight: {uniform: [0 mV, 1 mV]}, delay: 1 ms}\n"
    base = netspec.expand(net(TWO.format(seed=3, extra="")))
    text = TWO.format(seed=3, extra=extra) if where == "before" else TWO.format(seed=3, extra="") + extra
    more = netspec.expand(net(text))
    for p in base.projections:
        q = next(x for x in more.projections if x.name == p.name)
        for x, y in zip((p.pre, p.post, p.weight, p.delay), (q.pre, q.post, q.weight, q.delay)):
            assert np.array_equal(x, y)


def test_expansion_does_not_depend_on_the_python_hash_seed(tmp_path):
    """Another process with another PYTHONHASHSEED expands to the same bits (stream keys are not hash())."""
    path = tmp_path / "two.yaml"
    path.write_text(TWO.format(seed=4, extra=""))
    code = ("import sys, netspec; sys.path.insert(0, %r); from test_expand_rules import digest; "
            "print(digest(netspec.expand(netspec.load(%r))))" % (os.path.dirname(os.path.abspath(__file__)), str(path)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                         env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == digest(netspec.expand(netspec.load(str(path))))


# ----------------------------------------------------------------------------- connection rules
POPS3 = """\
seed: 11
time: {{duration: 1 s}}
populations:
  a: {{size: {na}, model: lif}}
  b: {{size: {nb}, model: lif}}
  c: {{size: {nc}, model: lif}}
projections:
  - {{from: {pre}, to: {post}, connect: {connect}, weight: 1 mV, delay: 1 ms}}
"""
def three(connect, pre="a", post="a", na=30, nb=20, nc=10):
    """(Expanded, its projection) for populations a, b, c and one projection pre -> post."""
    e = expand(POPS3.format(connect=connect, pre=pre, post=post, na=na, nb=nb, nc=nc))
    return e, e.projections[0]


def indices(e, names):
    """Global indices of the concatenated populations ``names``."""
    names = [n.strip() for n in names.strip("[]").split(",")]
    return np.concatenate([np.arange(e.populations[n].offset, e.populations[n].offset + e.populations[n].size)
                           for n in names])


@pytest.mark.parametrize("pre, post", [("a", "a"), ("a", "b"), ("[a, b]", "[b, c]")])
@pytest.mark.parametrize("allow_self", [True, False])
def test_all_to_all_is_exact(pre, post, allow_self):
    """all_to_all connects every source to every target (minus autapses when allow_self is false)."""
    e, p = three(f"{{all_to_all: true, allow_self: {str(allow_self).lower()}}}", pre, post)
    src, dst = indices(e, pre), indices(e, post)
    expected = [(int(i), int(j)) for i in src for j in dst if allow_self or i != j]
    assert pair_list(p) == expected
    assert p.pre.dtype == np.int32 and p.post.dtype == np.int32
    assert p.size == expected_synapses(e.netlist.projections[0], e.netlist.populations)


def test_one_to_one_is_exact_across_population_lists():
    """one_to_one pairs the i-th source with the i-th target of the concatenated lists."""
    e, p = three("one_to_one", "[c, b]", "[a]", na=30, nb=20, nc=10)
    assert pair_list(p) == list(zip(indices(e, "[c, b]").tolist(), indices(e, "a").tolist()))


def test_one_to_one_without_autapses_drops_the_diagonal():
    """one_to_one from a population to itself with allow_self false makes no synapse."""
    assert three("{one_to_one: true, allow_self: false}")[1].size == 0


@pytest.mark.parametrize("pre, post, allow_self", [("a", "a", True), ("a", "a", False), ("[a, b]", "[b, c]", False),
                                                   ("a", "b", True)])
def test_probability_count_and_uniqueness(pre, post, allow_self):
    """probability: the count is within 5 sigma of the binomial mean, no pair twice, no autapse unless allowed."""
    p_conn = 0.1
    e, p = three(f"{{probability: {p_conn}, allow_self: {str(allow_self).lower()}}}", pre, post, na=300, nb=200, nc=100)
    src, dst = indices(e, pre), indices(e, post)
    candidates = len(src) * len(dst) - (0 if allow_self else len(np.intersect1d(src, dst)))
    mean, sd = candidates * p_conn, math.sqrt(candidates * p_conn * (1 - p_conn))
    assert abs(p.size - mean) < 5 * sd
    pairs = pair_list(p)
    assert len(set(pairs)) == len(pairs)
    assert set(p.pre.tolist()) <= set(src.tolist()) and set(p.post.tolist()) <= set(dst.tolist())
    if not allow_self:
        assert not np.any(p.pre == p.post)
    else:
        assert pre != post or np.any(p.pre == p.post)  # autapses do occur when allowed (300 * 0.1 expected)


def test_probability_zero_and_one():
    """probability 0 connects nothing; probability 1 connects every pair."""
    assert three("{probability: 0}")[1].size == 0
    e, p = three("{probability: 1}", "a", "b")
    assert pair_list(p) == [(i, j) for i in range(30) for j in range(30, 50)]


def test_probability_rows_are_uniform():
    """probability: each source's out-degree averages p * n_post (no bias toward early or late rows)."""
    _, p = three("{probability: 0.05}", "a", "b", na=2000, nb=400)
    counts = np.bincount(p.pre, minlength=2000)
    first, second = counts[:1000].sum(), counts[1000:].sum()
    assert abs(first - second) < 5 * math.sqrt(first + second)


@pytest.mark.parametrize("rule", ["in_degree", "out_degree"])
@pytest.mark.parametrize("k, pre, post, allow_self", [
    (3, "a", "a", True),             # sparse choice
    (3, "a", "a", False),
    (25, "a", "a", False),           # dense choice (k >= n / 3), own index excluded
    (29, "a", "a", False),           # every other neuron
    (5, "[a, b]", "[b, c]", False),  # shared population b inside lists
    (18, "[a, b]", "[b, c]", False),
    (4, "a", "[b, c]", True),
])
def test_fixed_degree_is_exact_and_distinct(rule, k, pre, post, allow_self):
    """in/out_degree: exactly k partners per target/source, all distinct, no autapse when allow_self is false."""
    e, p = three(f"{{{rule}: {k}, allow_self: {str(allow_self).lower()}}}", pre, post)
    own, other = (p.post, p.pre) if rule == "in_degree" else (p.pre, p.post)
    side = indices(e, post if rule == "in_degree" else pre)
    others = indices(e, pre if rule == "in_degree" else post)
    assert p.size == k * len(side)
    for i in side:
        partners = other[own == i]
        assert len(partners) == k and len(set(partners.tolist())) == k
        assert set(partners.tolist()) <= set(others.tolist())
        if not allow_self:
            assert i not in partners


@pytest.mark.parametrize("rule", ["in_degree", "out_degree"])
def test_fixed_degree_with_multapses(rule):
    """With multapses, exactly k partners each, repeats allowed (and found), still no autapse if refused."""
    e, p = three(f"{{{rule}: 40, multapses: true, allow_self: false}}", "a", "a", na=10)
    own, other = (p.post, p.pre) if rule == "in_degree" else (p.pre, p.post)
    assert np.array_equal(np.bincount(own, minlength=10), np.full(10, 40))
    assert not np.any(p.pre == p.post)
    assert len(set(pair_list(p))) < p.size


def test_in_degree_sources_are_uniform():
    """in_degree draws sources uniformly: each source is used about k * n_post / n_pre times."""
    _, p = three("{in_degree: 5}", "a", "b", na=50, nb=2000)
    counts = np.bincount(p.pre, minlength=50)
    expected = 5 * 2000 / 50
    assert np.all(np.abs(counts - expected) < 5 * math.sqrt(expected))


def test_large_dense_fixed_degree_is_exact():
    """A fixed degree close to the pool size on a large network (dense choice in blocks) is exact."""
    e, p = three("{in_degree: 2000, allow_self: false}", "a", "a", na=2100, nb=1, nc=1)
    assert p.size == 2000 * 2100
    order = np.lexsort((p.pre, p.post))
    post, pre = p.post[order].reshape(2100, 2000), p.pre[order].reshape(2100, 2000)
    assert np.all(post == np.arange(2100)[:, None])
    assert np.all(np.diff(pre, axis=1) > 0)          # distinct sources per target
    assert not np.any(pre == post)


def test_pairs_are_exact_with_global_indices():
    """pairs index the concatenated source and target lists and keep their order."""
    e, p = three("{pairs: [[0, 0], [35, 29], [49, 5], [0, 0]]}", "[a, b]", "[c, b]")
    assert pair_list(p) == [(0, 50), (35, 49), (49, 55), (0, 50)]


def test_pairs_refuse_an_autapse_when_allow_self_is_false():
    """An explicit self-pair contradicts allow_self: false and is refused with its location."""
    with pytest.raises(netspec.NetlistError) as info:
        three("{pairs: [[1, 2], [32, 2]], allow_self: false}", "[a, b]", "[b]")
    assert str(info.value) == ("<string>:8:55: pairs[1] connects a neuron to itself, and allow_self is false "
                               "(got [32, 2])")


@pytest.fixture
def conn_files(tmp_path):
    np.savez(tmp_path / "conn.npz", pre=np.array([3, 0, 2, 2], dtype=np.int16), post=np.array([1, 1, 0, 2]),
             w=np.array([1.5, -2.0, 0.25, 4.0]), d=np.array([1, 2, 3, 4], dtype=np.int32))
    (tmp_path / "conn.csv").write_text("# a comment\npre, post ,w,d\n3,1,1.5,1\n0,1,-2,2\n\n2,0,0.25,3\n2,2,4,4\n")
    return tmp_path


@pytest.mark.parametrize("fname", ["conn.npz", "conn.csv"])
def test_connection_files_are_exact_with_columns(fname, conn_files):
    """file: npz arrays or csv columns give exactly those pairs, and columns give weights and delays in units."""
    p = proj(f"""\
        time: {{duration: 1 s}}
        populations:
          a: {{size: 4, model: lif}}
          b: {{size: 3, model: lif}}
        projections:
          - {{from: a, to: b, connect: {{file: {fname}}}, weight: {{column: {{name: w, unit: mV}}}},
             delay: {{column: {{name: d, unit: ms}}}}}}
        """, base_dir=str(conn_files))
    assert pair_list(p) == [(3, 5), (0, 5), (2, 4), (2, 6)]
    assert p.weight.tolist() == [0.0015, -0.002, 0.00025, 0.004]
    assert p.delay.tolist() == [0.001, 0.002, 0.003, 0.004]


# ----------------------------------------------------------------------------- values
VAL = """\
seed: 5
time: {{duration: 1 s}}
precision: {precision}
populations:
  a: {{size: 100, model: lif}}
  b: {{size: 100, model: lif}}
projections:
  - {{from: a, to: b, connect: {connect}, weight: {weight}, delay: {delay}}}
"""


def values_of(weight="1 mV", delay="1 ms", connect="all_to_all", precision="double", **kw):
    p = proj(VAL.format(weight=weight, delay=delay, connect=connect, precision=precision), **kw)
    return p.weight, p.delay


def test_constants_are_exact_and_cost_nothing_per_synapse():
    """'1.5 mV' is exactly 0.0015 for every synapse, held as a zero-stride view (8 bytes per synapse in all)."""
    p = proj(VAL.format(weight="1.5 mV", delay="2 ms", connect="all_to_all", precision="double"))
    assert np.all(p.weight == 0.0015) and np.all(p.delay == 0.002)
    assert p.weight.strides == (0,) and not p.weight.flags.writeable
    assert p.nbytes() == 8 * p.size


def test_plain_numbers_are_si():
    """A plain number is an SI value: weight 0.001 is 1 mV, delay 0.002 is 2 ms."""
    w, d = values_of(weight="0.001", delay="0.002")
    assert w[0] == 0.001 and d[0] == 0.002


def test_uniform_values_lie_in_range():
    """uniform [low, high) draws lie in the range, with the right mean."""
    w, d = values_of(weight="{uniform: [-1 mV, 3 mV]}", delay="{uniform: [1 ms, 5 ms]}")
    assert w.min() >= -0.001 and w.max() < 0.003 and d.min() >= 0.001 and d.max() < 0.005
    assert abs(w.mean() - 0.001) < 5 * (0.004 / math.sqrt(12)) / math.sqrt(w.size)


def test_truncated_normal_lies_within_min_max():
    """normal with min/max is truncated: every value within [min, max], mean and spread as expected."""
    w, d = values_of(weight="{normal: {mean: 1 mV, std: 1 mV, min: 0.5 mV, max: 1.2 mV}}",
                     delay="{normal: {mean: 2 ms, std: 1 ms, min: 0.1 ms}}")
    assert w.min() >= 0.0005 and w.max() <= 0.0012 and d.min() >= 0.0001
    assert abs(d.mean() - 0.002) < 2e-4  # the cut at 0.1 ms (1.9 sigma) moves the mean by ~0.07 ms
    w2, _ = values_of(weight="{normal: {mean: 1 mV, std: 0.2 mV}}")
    assert abs(w2.mean() - 0.001) < 5 * 0.0002 / math.sqrt(w2.size)
    assert abs(w2.std() - 0.0002) < 0.05 * 0.0002


def test_explicit_values_are_exact_in_order():
    """values: one per synapse, in expansion order, converted from their units."""
    w, d = values_of(weight="{values: [1 mV, 2 mV, -3 mV]}", delay="{values: [1 ms, 0.5 ms, 20 us]}",
                     connect="{pairs: [[0, 1], [5, 5], [2, 99]]}")
    assert w.tolist() == [0.001, 0.002, -0.003] and d.tolist() == [0.001, 0.0005, 2e-05]


@pytest.mark.parametrize("field, spec, scale", [
    ("weight", "tau.npy", 1.0),
    ("delay", "{path: tau.npy, unit: ms}", 1e-3),
    ("weight", "{path: vals.npz, key: v_th, unit: uV}", 1e-6),
    ("delay", "{path: vals.csv, key: t_ref, unit: ms}", 1e-3),
])
def test_values_from_files_with_units(field, spec, scale, tmp_path):
    """file: .npy, .npz (key) and .csv (column) values, times the unit's scale."""
    write_data_files(tmp_path)
    values = {"weight": "1 mV", "delay": "1 ms"}
    values[field] = f"{{file: {spec}}}"
    p = proj(f"""\
        time: {{duration: 1 s}}
        populations:
          a: {{size: 8, model: lif}}
        projections:
          - {{from: a, to: a, connect: one_to_one, weight: {values['weight']}, delay: {values['delay']}}}
        """, base_dir=str(tmp_path))
    if "tau" in spec:
        raw = np.load(tmp_path / "tau.npy")
    elif "npz" in spec:
        raw = np.load(tmp_path / "vals.npz")["v_th"]
    else:
        raw = np.array([1 + i * 0.5 for i in range(8)])
    assert np.array_equal(getattr(p, field), raw * scale)


def test_ternary_probabilities():
    """ternary: values in {-v, 0, +v} with frequencies within 5 sigma of p."""
    w, _ = values_of(weight="{ternary: {value: 2 mV, p: [0.2, 0.5, 0.3]}}")
    n = w.size
    for value, prob in ((-0.002, 0.2), (0.0, 0.5), (0.002, 0.3)):
        count = int(np.sum(w == value))
        assert abs(count - n * prob) < 5 * math.sqrt(n * prob * (1 - prob))
    assert np.sum(w == -0.002) + np.sum(w == 0) + np.sum(w == 0.002) == n


@pytest.mark.parametrize("precision, dtype", [("double", np.float64), ("single", np.float32)])
@pytest.mark.parametrize("weight", ["1 mV", "{uniform: [0 mV, 1 mV]}", "{ternary: {value: 1 mV, p: [0.5, 0, 0.5]}}"])
def test_precision_sets_weight_and_delay_dtype(precision, dtype, weight):
    """precision: single stores weights and delays as float32, double as float64; indices are int32."""
    p = proj(VAL.format(weight=weight, delay="{uniform: [1 ms, 2 ms]}", connect="{probability: 0.1}",
                        precision=precision))
    assert (p.weight.dtype, p.delay.dtype, p.pre.dtype, p.post.dtype) == (dtype, dtype, np.int32, np.int32)


def test_single_precision_keeps_dt_delays_in_grid_mode():
    """A delay of exactly dt stays legal in grid mode in single precision (float32(dt) is not 'below dt')."""
    p = proj("""\
        time: {duration: 1 s, mode: grid, dt: 0.1 ms}
        precision: single
        populations:
          a: {size: 5, model: lif}
        projections:
          - {from: a, to: a, connect: all_to_all, weight: 1 mV, delay: 0.1 ms}
        """)
    assert p.delay.dtype == np.float32 and p.size == 25


def test_population_values_and_state_defaults():
    """Per-neuron parameters come from their value forms; a state defaulting to a parameter is a read-only copy of it."""
    e = expand("""\
        seed: 2
        time: {duration: 1 s}
        populations:
          a: {size: 50, model: lif, params: {e_l: {uniform: [-70 mV, -60 mV]}, tau_m: 20 ms},
              init: {}}
          b: {size: 3, model: lif_exp, init: {v: {values: [-70 mV, -65 mV, -60 mV]}, i_exc: 1 mV}}
        """)
    a, b = e.populations["a"], e.populations["b"]
    assert a.params["e_l"].shape == (50,) and a.params["e_l"].dtype == np.float64
    assert np.all((a.params["e_l"] >= -0.07) & (a.params["e_l"] < -0.06))
    assert np.array_equal(a.init["v"], a.params["e_l"]) and not a.init["v"].flags.writeable
    with pytest.raises(ValueError):
        a.init["v"][0] = 0.0
    assert b.init["v"].tolist() == [-0.07, -0.065, -0.06] and np.all(b.init["i_exc"] == 0.001)
    assert (a.offset, b.offset, e.n_neurons, e.population_of(51)) == (0, 50, 53, "b")


def test_spike_sources_are_sorted_by_time_then_id(full_path):
    """Spike sources (lists, times/ids, npz with a unit, csv) give times sorted by (time, id) and int32 ids."""
    e = netspec.expand(netspec.load(full_path))
    got = {n: (e.populations[n].spike_times.tolist(), e.populations[n].spike_ids.tolist())
           for n in ("listed", "paired", "filed", "csvspk")}
    assert got == {"listed": ([0.001, 0.0025, 0.005], [0, 2, 0]),
                   "paired": ([0.001, 0.002, 0.003], [1, 0, 1]),
                   "filed": ([0.0005, 0.001, 0.0025], [1, 0, 1]),
                   "csvspk": ([0.001, 0.002], [0, 2])}
    assert e.populations["listed"].spike_ids.dtype == np.int32


# ----------------------------------------------------------------------------- problems found while expanding
def expand_error(text, **kw):
    with pytest.raises(netspec.NetlistError) as info:
        expand(text, **kw)
    return str(info.value)


HEAD = """\
time: {duration: 1 s, mode: grid, dt: 0.1 ms}
populations:
  a: {size: 4, model: lif}
projections:
"""


@pytest.mark.parametrize("line, message", [
    ("  - {from: a, to: a, connect: {probability: 0.5}, weight: {values: [1 mV, 2 mV]}, delay: 1 ms}",
     "<string>:5:68: a->a: weight: wrong number of values (expected {n}, got 2)"),
    ("  - {from: a, to: a, connect: one_to_one, weight: {file: w3.npy}, delay: 1 ms}",
     "<string>:5:58: a->a: weight: file w3.npy holds 3 values (expected 4, one per element)"),
    ("  - {from: a, to: a, connect: {file: c.npz}, weight: {column: w}, delay: 1 ms}",
     "<string>:5:63: a->a: weight: column 'w' of the connection file holds 3 values (expected 2, one per synapse)"),
    ("  - {from: a, to: a, connect: {file: c.npz}, weight: {column: s}, delay: 1 ms}",
     "<string>:5:63: a->a: weight: column 's' of the connection file must be 1-d numbers (got <U1 with shape (2,))"),
    ("  - {from: a, to: a, connect: {file: c.npz}, weight: {column: x}, delay: 1 ms}",
     "<string>:5:63: a->a: weight: the connection file has no column 'x' (it has: d, post, pre, s, w)"),
    ("  - {from: a, to: a, connect: {file: c.npz}, weight: 1 mV, delay: {column: {name: d, unit: ms}}}",
     "<string>:5:76: a->a: delay below dt in grid mode (expected 0 or >= dt = 0.1 ms, got 50 us)"),
    ("  - {from: a, to: a, connect: {file: c.npz, allow_self: false}, weight: 1 mV, delay: 1 ms}",
     "<string>:5:31: a->a: connection file connects a neuron to itself, and allow_self is false "
     "(got pre 0, post 0 in row 0)"),
    ("  - {from: a, to: a, connect: {file: bad.csv}, weight: 1 mV, delay: 1 ms}",
     "<string>:5:31: a->a: connect: cannot read bad.csv (column 'post' is not numeric on every row)"),
    ("  - {from: a, to: a, connect: {file: nopre.npz}, weight: 1 mV, delay: 1 ms}",
     "<string>:5:31: a->a: connection file nopre.npz needs 'pre' and 'post' (it has: post)"),
    ("  - {from: a, to: a, connect: {file: inf.npz}, weight: 1 mV, delay: 1 ms}",
     "<string>:5:31: a->a: connection file column 'pre' must hold whole numbers (got inf)"),
    ("  - {from: a, to: a, connect: {file: c.npz}, weight: 1 mV, delay: {column: w}}",
     "<string>:5:76: a->a: delay: column 'w' of the connection file holds 3 values (expected 2, one per synapse)"),
])
def test_expansion_problems_have_exact_messages(line, message, tmp_path):
    """Problems only visible once values are drawn or files read are NetlistErrors with the netlist location."""
    np.save(tmp_path / "w3.npy", np.ones(3))
    np.savez(tmp_path / "c.npz", pre=np.array([0, 1]), post=np.array([0, 2]), w=np.ones(3), s=np.array(["a", "b"]),
             d=np.array([0.05, 1.0]))
    np.savez(tmp_path / "nopre.npz", post=np.array([0]))
    np.savez(tmp_path / "inf.npz", pre=np.array([np.inf]), post=np.array([1.0]))
    (tmp_path / "bad.csv").write_text("pre,post\n0,x\n")
    text = HEAD + line + "\n"
    if "{n}" in message:
        n = netspec.expand(net(text.replace("{values: [1 mV, 2 mV]}", "1 mV"), base_dir=str(tmp_path))).n_synapses
        message = message.format(n=n)
    assert expand_error(text, base_dir=str(tmp_path)) == message


def test_single_precision_overflow_is_refused():
    """A weight too large for float32 becomes no silent inf: it is refused."""
    assert expand_error("""\
        time: {duration: 1 s}
        precision: single
        populations:
          a: {size: 2, model: lif}
        projections:
          - {from: a, to: a, connect: all_to_all, weight: 1.0e+40, delay: 1 ms}
        """) == "<string>:6:51: a->a: weights must be finite in single precision (got inf)"


def test_zero_delay_cycle_found_from_file_delays(tmp_path):
    """A zero-delay cycle that only file delays reveal is refused at expansion, naming both projections."""
    np.savez(tmp_path / "c.npz", pre=np.array([0]), post=np.array([1]), d=np.array([0.0]))
    msg = expand_error("""\
        time: {duration: 1 s}
        populations:
          a: {size: 2, model: lif}
          b: {size: 2, model: lif}
        projections:
          - {name: ab, from: a, to: b, connect: {file: c.npz}, weight: 1 mV, delay: {column: d}}
          - {name: ba, from: b, to: a, connect: {file: c.npz}, weight: 1 mV, delay: {column: d}}
        """, base_dir=str(tmp_path))
    assert msg == ("<string>:6:5: zero-delay cycle a -> b -> a: projections 'ab' (<string>:6:5), 'ba' (<string>:7:5) "
                   "can pass a spike round the loop in no time (expected a delay > 0 on at least one of them)")


def test_expand_checks_memory_first(memory_limit):
    """expand refuses a network that does not fit EVSIM_MEMORY_LIMIT before allocating it."""
    memory_limit("10M")
    n = net(GRID.replace("size: 20,", "size: 20000,"))
    with pytest.raises(netspec.NetlistError, match=r"network too large: it needs about .* but 10\.0 MB is available"):
        netspec.expand(n)
    est = netspec.estimate(n)
    assert est.synapses["in"] == 0.5 * 4 * 20005 and est.largest_population == "exc"


def test_delay_ranges_and_counts(full_path):
    """Expanded.delay_ranges/delay_range/n_synapses describe the arrays."""
    e = netspec.expand(netspec.load(full_path))
    ranges = e.delay_ranges()
    assert ranges["one"] == (0.001, 0.003) and ranges["zero"] == (0.0, 0.0)
    assert e.delay_range() == (0.0, max(r[1] for r in ranges.values()))
    assert e.n_synapses == sum(p.size for p in e.projections) == 185


@pytest.mark.parametrize("times, ids, message", [
    ([1.0, 2.0], [0.0, 1e300], "s.spikes: ids out of range (expected 0 <= id < 2, got 0.0 .. 1e+300)"),
    ([1.0, 2.0], [0.5, 1.0], "s.spikes: ids must be whole numbers (got 0.5)"),
    ([1.0, -2.0], [0, 1], "s.spikes: spike times must be >= 0 and finite (got -2 s)"),
    ([1.0, np.nan], [0, 1], "s.spikes: spike times must be >= 0 and finite (got nan s)"),
    ([1.0], [0, 1], "s.spikes: times and ids differ in shape ((1,), (2,))"),
    (["a"], [0], "s.spikes: spk.npz: times and ids must be numbers (got <U1 and int64)"),
])
def test_spike_file_problems(times, ids, message, tmp_path):
    """A spike file with ids or times that cannot be used is a located problem saying what it got."""
    np.savez(tmp_path / "spk.npz", times=np.array(times), ids=np.array(ids))
    assert expand_error("time: {duration: 1 s}\npopulations:\n  s: {size: 2, model: spike_times, "
                        "spikes: {file: spk.npz}}\n", base_dir=str(tmp_path)) == "<string>:3:44: " + message
