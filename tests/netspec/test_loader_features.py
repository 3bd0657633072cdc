"""Loading: includes (merge rules), --set overrides, like: inheritance, safe YAML, problem collection."""
from __future__ import annotations

import textwrap

import pytest

import netspec
from netspec import loader, source
from netspec.errors import Location


def load_error(path_or_text, **kw):
    with pytest.raises(netspec.NetlistError) as info:
        if path_or_text.endswith(".yaml"):
            netspec.load(path_or_text, **kw)
        else:
            netspec.loads(textwrap.dedent(path_or_text), **kw)
    return str(info.value)


# ----------------------------------------------------------------------------- includes
@pytest.fixture
def included(write, tmp_path, monkeypatch):
    """base.yaml (time, populations, one projection) and model.yaml including it and extending it."""
    monkeypatch.chdir(tmp_path)
    write("lib/base.yaml", """\
        name: base
        seed: 1
        time: {duration: 1 s, mode: exact}
        populations:
          exc: {size: 10, model: lif, params: {tau_m: 20 ms, v_th: -50 mV}}
          inh: {size: 5, model: lif}
        projections:
          - {name: ee, from: exc, to: exc, connect: {probability: 0.1}, weight: 1 mV, delay: 1 ms}
        """)
    write("lib/extra.yaml", """\
        seed: 2
        populations:
          drive: {size: 3, model: poisson, params: {rate: 5 Hz}}
        """)
    return write("model.yaml", """\
        include: [lib/base.yaml, lib/extra.yaml]
        name: model
        time: {duration: 2 s}
        populations:
          exc: {size: 20, params: {v_th: -52 mV}}
        projections:
          - {name: ie, from: inh, to: exc, connect: all_to_all, weight: -1 mV, delay: 2 ms, port: inh}
        """)


def test_include_merges_mappings_and_the_including_file_wins(included):
    """Mappings merge key by key; for the same key the including file wins; later includes win over earlier."""
    net = netspec.load(included)
    assert (net.name, net.seed, net.time.duration, net.time.mode) == ("model", 2, 2.0, "exact")
    exc = net.populations["exc"]
    assert (exc.size, exc.model) == (20, "lif")
    assert exc.params["tau_m"].value == 0.02 and exc.params["v_th"].value == -0.052
    assert list(net.populations) == ["exc", "inh", "drive"]


def test_include_concatenates_projections(included):
    """Projection lists concatenate: the included file's first, then the including file's."""
    net = netspec.load(included)
    assert [p.name for p in net.projections] == ["ee", "ie"]
    assert net.files[0] == included
    assert [f.rsplit("/", 2)[-2:] for f in net.files[1:]] == [["lib", "base.yaml"], ["lib", "extra.yaml"]]


def test_locations_point_into_the_right_file_after_merging(included, write):
    """Problems in merged projections and populations point at the file and line where they were written."""
    write("model.yaml", """\
        include: lib/base.yaml
        populations:
          exc: {params: {v_th: -52 ms}}
        projections:
          - {name: ie, from: inh, to: exc, connect: all_to_all, weight: -1 mV, delay: -2 ms}
        """)
    write("lib/base.yaml", """\
        time: {duration: 1 s}
        populations:
          exc: {size: 10, model: lif}
          inh: {size: 5, model: lif}
        projections:
          - {name: ee, from: exc, to: exc, connect: {probability: 1.1}, weight: 1 mV, delay: 1 ms}
        """)
    assert load_error("model.yaml").splitlines() == [
        "lib/base.yaml:6:59: connection probability out of range (expected 0 <= p <= 1, got 1.1)",
        "model.yaml:3:24: exc.params.v_th: wrong unit (expected a voltage such as '-50 mV', got '-52 ms', a time)",
        "model.yaml:5:79: ie: delay must be >= 0 (got -2 ms)"]


def test_nested_includes_are_relative_to_the_including_file(write, tmp_path, monkeypatch):
    """An include inside an included file is found relative to that file, not to the working directory."""
    monkeypatch.chdir(tmp_path)
    write("a/b/leaf.yaml", "time: {duration: 3 s}\n")
    write("a/mid.yaml", "include: b/leaf.yaml\npopulations: {x: {size: 1, model: lif}}\n")
    write("top.yaml", "include: a/mid.yaml\n")
    net = netspec.load("top.yaml")
    assert net.time.duration == 3.0 and list(net.populations) == ["x"]


def test_include_cycle_through_itself(write, tmp_path, monkeypatch):
    """A file that includes itself is an include cycle."""
    monkeypatch.chdir(tmp_path)
    write("self.yaml", "include: self.yaml\ntime: {duration: 1 s}\npopulations: {}\n")
    assert load_error("self.yaml") == "self.yaml:1:10: include cycle (self.yaml -> self.yaml)"


def test_loads_resolves_includes_from_base_dir(write, tmp_path):
    """netspec.loads finds include: files relative to base_dir."""
    write("base.yaml", "time: {duration: 1 s}\npopulations: {a: {size: 2, model: lif}}\n")
    net = netspec.loads("include: base.yaml\nseed: 9\n", base_dir=str(tmp_path))
    assert net.seed == 9 and net.populations["a"].size == 2


# ----------------------------------------------------------------------------- overrides
def test_overrides_set_values_after_includes(included):
    """--set values apply after includes and win over every file."""
    net = netspec.load(included, overrides=["populations.exc.size=40", "time.duration=5 s", "seed=7"])
    assert (net.populations["exc"].size, net.time.duration, net.seed) == (40, 5.0, 7)


def test_override_names_a_projection_by_name_or_index(included):
    """A projection is addressed by its name or its index (negative counts from the end)."""
    net = netspec.load(included, overrides=["projections.ee.delay=3 ms", "projections.-1.weight=-2 mV",
                                            "projections.0.connect.probability=0.2"])
    ee, ie = net.projections
    assert (ee.delay.value, ee.connect.p, ie.weight.value) == (0.003, 0.2, -0.002)


def test_override_values_are_yaml(included):
    """An override value is read as YAML: lists and mappings are allowed."""
    net = netspec.load(included, overrides=["projections.ee.delay={uniform: [1 ms, 2 ms]}",
                                            "record.spikes=[exc]"])
    assert net.projections[0].delay.low == 0.001 and net.record.spikes == ("exc",)


def test_override_creates_missing_sections(included):
    """An override may add a population that did not exist; its problems point at the override."""
    net = netspec.load(included, overrides=["populations.new.size=2", "populations.new.model=lif"])
    assert net.populations["new"].size == 2
    assert load_error(included, overrides=["populations.new.size=2"]) == \
        "--set populations.new.size=2: population 'new' needs a 'model'"


def test_override_path_problems_and_netlist_problems_together(included):
    """A misspelt override path is reported together with the netlist's own problems."""
    msg = load_error(included, overrides=["projections.eee.delay=1 ms", "populations.exc.size=-1"])
    assert msg.splitlines() == [
        "--set populations.exc.size=-1: 'size' must be >= 1 (got -1)",
        "--set projections.eee.delay=1 ms: no item named 'eee' in projections (did you mean 'ee'?)"]


def test_override_with_bad_yaml_value(included):
    """An override whose value is not YAML is a problem naming the override."""
    assert load_error(included, overrides=["seed={"]) == \
        "--set seed={: cannot read the value as YAML (expected the node content, but found '<stream end>')"


# ----------------------------------------------------------------------------- like
LIKE = """\
time: {duration: 1 s}
populations:
  exc: {size: 10, model: lif_exp, params: {tau_m: 20 ms, v_th: -50 mV}, init: {v: -60 mV, i_exc: 1 mV},
        doc: the parent}
  inh: {size: 5, like: exc, params: {tau_m: 10 ms}, init: {v: -65 mV}}
  inh2: {like: inh, params: {e_l: -60 mV}}
"""


def test_like_copies_and_merges_params_and_init():
    """like copies model, size, params and init; params and init merge key by key, the population's own win."""
    pops = netspec.loads(LIKE).populations
    inh, inh2 = pops["inh"], pops["inh2"]
    assert (inh.model, inh.size, inh.like) == ("lif_exp", 5, "exc")
    assert inh.params["tau_m"].value == 0.01 and inh.params["v_th"].value == -0.05
    assert inh.init["v"].value == -0.065 and inh.init["i_exc"].value == 0.001
    assert (inh2.size, inh2.like, inh2.params["tau_m"].value, inh2.params["e_l"].value) == (5, "inh", 0.01, -0.06)


def test_like_reports_a_copied_problem_once_where_written():
    """A wrong value copied by like is reported once, at the line where it is written."""
    msg = load_error("""\
        time: {duration: 1 s}
        populations:
          exc: {size: 10, model: lif, params: {tau_m: 20 mV}}
          inh: {size: 10, like: exc}
        """)
    assert msg == "<string>:3:47: exc.params.tau_m: wrong unit (expected a time such as '20 ms', got '20 mV', a voltage)"


def test_like_with_another_size_checks_copied_counts():
    """Explicit values copied to a population of another size are checked against that size."""
    msg = load_error("""\
        time: {duration: 1 s}
        populations:
          exc: {size: 2, model: lif, init: {v: {values: [-70 mV, -60 mV]}}}
          inh: {size: 3, like: exc}
        """)
    assert msg == "<string>:3:49: inh.init.v: wrong number of values (expected 3, one per neuron, got 2)"


# ----------------------------------------------------------------------------- safe YAML
@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!!python/name:os.system",
                                 "!!python/object/apply:os.system", "!custom", "!!binary"])
def test_only_plain_yaml_data_is_accepted(tag):
    """Any non-core tag (python objects, custom tags, binary) is refused: a netlist never runs code."""
    msg = load_error(f"name: {tag} x\ntime: {{duration: 1 s}}\npopulations: {{}}\n")
    assert msg.startswith("<string>:1:7: unsupported YAML tag (expected plain YAML data, got tag")


def test_python_object_tag_constructs_nothing(tmp_path):
    """A python/object/apply tag does not run: the command it names leaves no trace."""
    marker = tmp_path / "ran"
    text = f'seed: !!python/object/apply:os.system ["touch {marker}"]\ntime: {{duration: 1 s}}\npopulations: {{}}\n'
    with pytest.raises(netspec.NetlistError):
        netspec.loads(text)
    assert not marker.exists()


def test_anchors_aliases_and_merge_keys_work():
    """Plain YAML conveniences work: anchors, aliases, << merge keys as the YAML spec orders them (own keys, then
    earlier merged mappings win; no duplicate), whatever the PyYAML version."""
    net = netspec.loads(textwrap.dedent("""\
        time: {duration: 1 s}
        populations:
          exc: &base {size: 4, model: lif, params: {tau_m: 20 ms}}
          inh: {<<: *base, size: 2}
          mix: {<<: [{size: 7, model: lif}, *base], params: {tau_m: 5 ms}}
          nested: {<<: [{<<: *base, size: 3}, {size: 9, params: {tau_m: 1 ms}}]}
        """))
    pops = net.populations
    assert (pops["nested"].size, pops["nested"].params["tau_m"].value) == (3, 0.02)  # a merged mapping's own key wins
    assert (pops["inh"].size, pops["inh"].params["tau_m"].value) == (2, 0.02)
    assert (pops["mix"].size, pops["mix"].params["tau_m"].value) == (7, 0.005)  # the first merged mapping wins
    assert load_error("""\
        time: {duration: 1 s}
        populations:
          a: {<<: {size: 1}, model: lif, model: if}
        """) == "<string>:3:34: duplicate key 'model' (first given at <string>:3:22)"


def test_alias_bomb_is_refused(monkeypatch):
    """Exponential alias expansion ('billion laughs') stops at the node limit with a located problem."""
    monkeypatch.setattr(source, "MAX_NODES", 1000)
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i, name in enumerate("bcdef"):
        prev = "abcdef"[i]
        text += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    msg = load_error(text)
    assert msg.endswith("document too large (more than 1000 nodes, expanded aliases included)")


def test_yes_and_on_keys_are_names_not_booleans():
    """Keys such as yes/on/null are population names, not booleans (YAML 1.1 surprises avoided)."""
    net = netspec.loads("time: {duration: 1 s}\npopulations: {yes: {size: 1, model: lif}, on: {size: 1, model: lif}}\n")
    assert list(net.populations) == ["yes", "on"]


def test_empty_file_is_missing_sections(write):
    """An empty file is an empty netlist: both required sections are missing."""
    path = write("empty.yaml", "")
    assert load_error(path).splitlines() == [f"{path}:1:1: missing key 'populations' in the netlist",
                                             f"{path}:1:1: missing key 'time' in the netlist"]


def test_nan_is_refused():
    """A .nan anywhere is refused where it is written."""
    assert load_error("time: {duration: .nan}\npopulations: {}\n") == "<string>:1:18: not a number (got .nan)"


# ----------------------------------------------------------------------------- problems and warnings
def test_problems_are_sorted_and_deduplicated():
    """NetlistError lists each problem once, sorted by file, line and column."""
    from netspec.errors import Problem

    a = Problem(Location("f.yaml", 3, 1), "x")
    b = Problem(Location("f.yaml", 1, 9), "y")
    err = netspec.NetlistError([a, b, a])
    assert err.problems == [b, a] and str(err) == "f.yaml:1:9: y\nf.yaml:3:1: x"


def test_unusual_values_warn_but_load():
    """A legal but unusual value (a plain number read as SI: tau_m 20 s) loads with a located warning."""
    warnings = []
    netspec.loads("time: {duration: 1 s}\npopulations: {a: {size: 1, model: lif, params: {tau_m: 20}}}\n",
                  warnings=warnings)
    assert [str(w) for w in warnings] == [
        "<string>:2:56: warning: a.params.tau_m = 20 s is unusual (typically 0.1 ms to 1 s; plain numbers are SI)"]


def test_loader_module_exports():
    """The loader's public names are importable (used by the command line)."""
    assert loader.load is netspec.load and loader.loads is netspec.loads


@pytest.mark.parametrize("text, message", [
    ("seed: !!int abc", "<string>:1:7: cannot read 'abc' as YAML int (expected a value its tag "
                        "'tag:yaml.org,2002:int' allows)"),
    ("seed: !!bool maybe", "<string>:1:7: cannot read 'maybe' as YAML bool (expected a value its tag "
                           "'tag:yaml.org,2002:bool' allows)"),
    ("!foo seed: 1", "<string>:1:1: unsupported YAML tag (expected plain YAML data, got tag '!foo')"),
    ("seed: !!seq {a: 1}", "<string>:1:7: YAML tag 'tag:yaml.org,2002:seq' does not fit a mapping"),
    ("seed: !!str [1]", "<string>:1:7: YAML tag 'tag:yaml.org,2002:str' does not fit a list"),
    ("seed: {<<: 5}", "<string>:1:12: YAML merge key error: expected a mapping or list of mappings for merging, "
                      "but found scalar"),
])
def test_explicit_tags_that_do_not_fit_are_problems(text, message):
    """Explicit core tags that do not fit their value, tagged keys and bad merge keys are located problems."""
    problems = [p for p in load_error(text).splitlines() if "missing key" not in p]
    assert problems == [message]


def test_steps_mode_without_dt_and_a_short_duration_is_a_located_problem():
    """Steps mode without dt (one step per second) and a duration under a second: one located
    problem naming the implied dt, not a KeyError (found by the fuzz test)."""
    assert load_error("""\
        time: {mode: steps, duration: 64 ms}
        populations:
          n: {size: 1, model: lif}
        """) == ("<string>:1:7: time.dt is longer than the duration (got dt not given: 1 s per step in "
                 "steps mode, duration 64 ms)")
