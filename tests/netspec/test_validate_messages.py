"""`evsim validate`: every shipped netlist passes; each class of bad input is refused with exit
status 2, no traceback, and its exact message lines ``file:line:col: what (expected X, got Y)``."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from netspec_cases import REPO, yaml_model_files
from netspec import registry
from netspec.errors import one_of


def _declared_warnings(path) -> list[str]:
    """The ``# warns: <text>`` lines of a netlist's header: unusual values it sets on purpose."""
    with open(path) as f:
        return [line.split(":", 1)[1].strip() for line in f if line.startswith("# warns:")]


@pytest.mark.parametrize("path", yaml_model_files(), ids=os.path.basename)
def test_validate_accepts_every_shipped_netlist(path, evsim):
    """Every file in yaml_models/ validates (exit 0, an 'ok' line); the only warnings on stderr
    are those its header declares with '# warns:', and each declared one is printed."""
    code, out, err = evsim("validate", path)
    assert code == 0
    assert out.startswith(f"{path}: ok (")
    declared = _declared_warnings(path)
    printed = err.splitlines()
    assert all(any(d in line for d in declared) for line in printed), printed
    assert all(any(d in line for line in printed) for d in declared), (declared, printed)


def test_validate_accepts_the_full_example(full_path, evsim):
    """The example using every value form and connection rule validates and counts its synapses."""
    code, out, err = evsim("validate", full_path)
    assert (code, err) == (0, "")
    assert out == f"{full_path}: ok (10 populations, 41 neurons, 13 projections, 185 synapses)\n"


def test_validate_quick_reports_expected_synapses(full_path, evsim):
    """--quick checks without expanding and says the synapse count is an expectation."""
    code, out, err = evsim("validate", "--quick", full_path)
    assert code == 0 and out.endswith(" synapses expected)\n")


MODELS = one_of(registry.names())

# (id, {file name: text}, extra arguments, expected problem lines). The netlist is net.yaml;
# {d} is the directory the files are in (the working directory of the command).
CASES = [
    ("yaml-syntax", {"net.yaml": """\
        time: {duration: 1 s
        populations: {}
        """}, [],
     ["net.yaml:2:12: YAML syntax error: expected ',' or '}', but got ':'"]),
    ("yaml-tab-indent", {"net.yaml": "time:\n\tduration: 1 s\npopulations: {}\n"}, [],
     ["net.yaml:2:1: YAML syntax error: found character '\\t' that cannot start any token"]),
    ("yaml-control-character", {"net.yaml": "name: a\x07b\ntime: {duration: 1 s}\npopulations: {}\n"}, [],
     ["net.yaml:1:8: YAML syntax error: special characters are not allowed (got character #x0007)"]),
    ("python-tag", {"net.yaml": """\
        name: !!python/object/apply:os.system ["echo pwned"]
        time: {duration: 1 s}
        populations: {}
        """}, [],
     ["net.yaml:1:7: unsupported YAML tag (expected plain YAML data, got tag "
      "'tag:yaml.org,2002:python/object/apply:os.system')"]),
    ("duplicate-keys", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 2, model: lif, size: 3}
        time: {duration: 2 s}
        """}, [],
     ["net.yaml:3:28: duplicate key 'size' (first given at net.yaml:3:7)",
      "net.yaml:4:1: duplicate key 'time' (first given at net.yaml:1:1)"]),
    ("unknown-keys", {"net.yaml": """\
        tme: {duration: 1 s}
        time: {duration: 1 s, mdoe: grid}
        populations:
          a: {size: 2, modle: lif, model: lif}
        """}, [],
     ["net.yaml:1:1: unknown key 'tme' in the netlist (expected one of 'name', 'description', 'seed', 'include', "
      "'time', 'precision', 'populations', 'projections', 'record', 'train') (did you mean 'time'?)",
      "net.yaml:2:23: unknown key 'mdoe' in time (expected one of 'duration', 'steps', 'mode', 'dt') (did you mean 'mode'?)",
      "net.yaml:4:16: unknown key 'modle' in populations.a (expected one of 'size', 'model', 'like', 'params', "
      "'init', 'spikes', 'sequence', 'doc') (did you mean 'model'?)"]),
    ("unknown-model-parameter-state", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 2, model: lif_expp}
          b: {size: 2, model: lif, params: {tau: 10 ms}, init: {vm: -70 mV}}
        """}, [],
     [f"net.yaml:3:23: unknown model 'lif_expp' (expected {MODELS}) (did you mean 'lif_exp'?)",
      "net.yaml:4:37: unknown parameter 'tau' for model 'lif' (expected one of 'tau_m', 'e_l', 'v_th', 'v_reset', "
      "'t_ref', 'i_bias') (did you mean 'tau_m'?)",
      "net.yaml:4:57: unknown state variable 'vm' for model 'lif' (expected 'v') (did you mean 'v'?)"]),
    ("wrong-types", {"net.yaml": """\
        seed: 1.5
        time: {duration: [1 s]}
        populations:
          a: {size: ten, model: lif}
          b: [1, 2]
        projections: {from: a}
        """}, [],
     ["net.yaml:1:7: 'seed' has the wrong type (expected a whole number >= 0, got 1.5)",
      "net.yaml:2:18: 'duration' has the wrong type (expected a quantity such as '20 ms', got a list of 1)",
      "net.yaml:4:13: 'size' has the wrong type (expected a whole number >= 1, got 'ten')",
      "net.yaml:5:6: 'b' has the wrong type (expected a mapping, got a list of 2)",
      "net.yaml:6:14: 'projections' has the wrong type (expected a list, got a mapping {from})"]),
    ("units", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 2, model: lif, params: {tau_m: 20 msec, v_th: 20 ms, e_l: '-70', i_bias: 1 mvolt}}
        """}, [],
     ["net.yaml:3:44: a.params.tau_m: unknown unit 'msec' (expected a time such as '20 ms', got '20 msec') "
      "(did you mean 'ms'?)",
      "net.yaml:3:59: a.params.v_th: wrong unit (expected a voltage such as '-50 mV', got '20 ms', a time)",
      "net.yaml:3:71: a.params.e_l: missing unit (expected a voltage such as '-50 mV', got '-70'; write a plain "
      "number without quotes for SI)",
      "net.yaml:3:86: a.params.i_bias: unknown unit 'mvolt' (expected a voltage such as '-50 mV', got '1 mvolt') "
      "(did you mean 'mV'?)"]),
    ("negative-size-and-bounds", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: -5, model: lif, params: {t_ref: -1 ms}}
          b: {size: 0, model: lif}
        """}, [],
     ["net.yaml:3:13: 'size' must be >= 1 (got -5)",
      "net.yaml:3:45: a.params.t_ref out of range (expected >= 0 s, got -1 ms)",
      "net.yaml:4:13: 'size' must be >= 1 (got 0)"]),
    ("non-finite-parameters", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 2, model: lif_exp, params: {v_th: inf V}}
          b: {size: 2, model: lif, params: {tau_m: .inf}}
          c: {size: 2, model: poisson, params: {rate: 5 Hz, stop: inf s}}
        """}, [],
     ["net.yaml:3:47: a.params.v_th out of range (expected a finite value, got inf V)",
      "net.yaml:4:44: b.params.tau_m out of range (expected a finite value, got inf s)"]),
    ("probabilities", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 4, model: lif}
        projections:
          - {from: a, to: a, connect: {probability: 1.5}, weight: 1 mV, delay: 1 ms}
          - {name: q, from: a, to: a, connect: {probability: -0.1}, weight: 1 mV, delay: 1 ms}
          - {name: t, from: a, to: a, connect: all_to_all, weight: {ternary: {value: 1 mV, p: [0.5, 0.6, 0.1]}},
             delay: 1 ms}
        """}, [],
     ["net.yaml:5:45: connection probability out of range (expected 0 <= p <= 1, got 1.5)",
      "net.yaml:6:54: connection probability out of range (expected 0 <= p <= 1, got -0.1)",
      "net.yaml:7:87: t: weight: ternary p must be three probabilities [p_minus, p_zero, p_plus] summing to 1 "
      "(got [0.5, 0.6, 0.1])"]),
    ("negative-delays", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 4, model: lif}
        projections:
          - {from: a, to: a, connect: all_to_all, weight: 1 mV, delay: -1 ms}
          - {name: u, from: a, to: a, connect: all_to_all, weight: 1 mV, delay: {uniform: [-1 ms, 1 ms]}}
          - {name: n, from: a, to: a, connect: all_to_all, weight: 1 mV, delay: {normal: {mean: 1 ms, std: 1 ms}}}
        """}, [],
     ["net.yaml:5:64: a->a: delay must be >= 0 (got -1 ms)",
      "net.yaml:6:83: u: delay must be >= 0 (got -1 ms)",
      "net.yaml:7:82: n: a normal delay needs 'min' (>= 0: a delay cannot be negative)"]),
    ("delay-below-dt-in-grid-mode", {"net.yaml": """\
        time: {duration: 1 s, mode: grid, dt: 0.1 ms}
        populations:
          a: {size: 4, model: lif}
        projections:
          - {from: a, to: a, connect: all_to_all, weight: 1 mV, delay: 0.05 ms}
          - {name: u, from: a, to: a, connect: all_to_all, weight: 1 mV, delay: {uniform: [0.01 ms, 1 ms]}}
        """}, [],
     ["net.yaml:5:64: a->a: delay below dt in grid mode (expected 0 or >= dt = 0.1 ms, got 50 us)",
      "net.yaml:6:83: u: delay below dt in grid mode (expected 0 or >= dt = 0.1 ms, got 10 us)"]),
    ("undefined-population-names", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          exc: {size: 4, model: lif}
          inh: {size: 4, like: exx}
        projections:
          - {from: ecx, to: [exc, ihn], connect: all_to_all, weight: 1 mV, delay: 1 ms}
        record: {spikes: [exc, inhh], state: {exx: {vars: [v]}}}
        """}, [],
     ["net.yaml:4:24: 'like' names an unknown population 'exx' (did you mean 'exc'?)",
      "net.yaml:6:12: 'from' names an unknown population 'ecx' (did you mean 'exc'?)",
      "net.yaml:6:27: 'to' names an unknown population 'ihn' (did you mean 'inh'?)",
      "net.yaml:7:24: record.spikes names an unknown population 'inhh' (did you mean 'inh'?)",
      "net.yaml:7:39: record.state names an unknown population 'exx' (did you mean 'exc'?)"]),
    ("like-cycle", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {like: b}
          b: {like: c, size: 3}
          c: {like: a}
          d: {like: d}
        """}, [],
     ["net.yaml:3:13: 'like' cycle (a -> b -> c -> a)",
      "net.yaml:4:13: 'like' cycle (b -> c -> a -> b)",
      "net.yaml:5:13: 'like' cycle (c -> a -> b -> c)",
      "net.yaml:6:13: 'like' cycle (d -> d)"]),
    ("include-cycle", {"net.yaml": """\
        include: [a.yaml]
        time: {duration: 1 s}
        populations: {}
        """, "a.yaml": "include: b.yaml\n", "b.yaml": "include: [a.yaml]\n"}, [],
     ["b.yaml:1:11: include cycle (a.yaml -> b.yaml -> a.yaml)"]),
    ("include-missing", {"net.yaml": """\
        include: [base.yaml, nope.yaml]
        time: {duration: 1 s}
        populations: {}
        """, "base.yaml": "seed: 3\n"}, [],
     ["net.yaml:1:22: included file not found (got 'nope.yaml', looked for {d}/nope.yaml)"]),
    ("problem-in-included-file", {"net.yaml": """\
        include: base.yaml
        populations:
          b: {size: 2, like: a}
        """, "base.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 2, model: lif, params: {tau_m: 10 mV}}
        """}, [],
     ["base.yaml:3:44: a.params.tau_m: wrong unit (expected a time such as '20 ms', got '10 mV', a voltage)"]),
    ("missing-data-files", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 3, model: lif, params: {tau_m: {file: tau.npy}}}
          s: {size: 3, model: spike_times, spikes: {file: spikes.npz}}
        projections:
          - {from: a, to: a, connect: {file: conn.npz}, weight: 1 mV, delay: 1 ms}
          - {name: w, from: a, to: a, connect: all_to_all, weight: {file: {path: w.txt}}, delay: 1 ms}
        """}, [],
     ["net.yaml:3:51: a.params.tau_m: file not found (got 'tau.npy', looked for {d}/tau.npy)",
      "net.yaml:4:51: s.spikes: file not found (got 'spikes.npz', looked for {d}/spikes.npz)",
      "net.yaml:6:38: connection file not found (got 'conn.npz', looked for {d}/conn.npz)",
      "net.yaml:7:67: w: weight: file not found (got 'w.txt', looked for {d}/w.txt)"]),
    ("wrong-counts-of-values", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 3, model: lif, init: {v: {values: [-70 mV, -60 mV]}}}
          b: {size: 2, model: lif, params: {e_l: {values: [-70 mV, -70 mV, -70 mV]}}}
        """}, [],
     ["net.yaml:3:47: a.init.v: wrong number of values (expected 3, one per neuron, got 2)",
      "net.yaml:4:51: b.params.e_l: wrong number of values (expected 2, one per neuron, got 3)"]),
    ("wrong-count-of-synapse-values", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 2, model: lif}
        projections:
          - {from: a, to: a, connect: all_to_all, weight: {values: [1 mV, 2 mV, 3 mV]}, delay: 1 ms}
        """}, [],
     ["net.yaml:5:60: a->a: weight: wrong number of values (expected 4, got 3)"]),
    ("zero-delay-cycle", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 3, model: lif}
          b: {size: 3, model: lif}
          c: {size: 3, model: lif}
        projections:
          - {name: ab, from: a, to: b, connect: all_to_all, weight: 1 mV, delay: 0 ms}
          - {name: bc, from: b, to: c, connect: all_to_all, weight: 1 mV}
          - {name: ca, from: c, to: a, connect: all_to_all, weight: 1 mV, delay: {uniform: [0 ms, 1 ms]}}
          - {name: cb, from: c, to: b, connect: all_to_all, weight: 1 mV, delay: 1 ms}
        """}, [],
     ["net.yaml:7:5: zero-delay cycle a -> b -> c -> a: projections 'ab' (net.yaml:7:5), 'bc' (net.yaml:8:5), "
      "'ca' (net.yaml:9:5) can pass a spike round the loop in no time (expected a delay > 0 on at least one of them)"]),
    ("zero-delay-self-loop", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 3, model: lif}
        projections:
          - {from: a, to: a, connect: {probability: 0.5}, weight: 1 mV}
        """}, [],
     ["net.yaml:5:5: zero-delay cycle a -> a: projection 'a->a' (net.yaml:5:5) can pass a spike round the loop in "
      "no time (expected a delay > 0 on at least one of them)"]),
    ("bad-override-paths", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 3, model: lif}
        projections:
          - {name: rec, from: a, to: a, connect: all_to_all, weight: 1 mV, delay: 1 ms}
        """}, ["--set", "projections.rce.delay=2 ms", "--set", "projections.3.delay=2 ms",
               "--set", "populations.a.size.x=2", "--set", "populations.a.size", "--set", "populations..size=3",
               "--set", "populations.a.sise=4", "--set", "populations.b.size=4"],
     ["--set populations..size=3: empty name in path 'populations..size'",
      "--set populations.a.sise=4: unknown key 'sise' in populations.a (expected one of 'size', 'model', 'like', "
      "'params', 'init', 'spikes', 'sequence', 'doc') (did you mean 'size'?)",
      "--set populations.a.size: override must read path=value (such as populations.exc.size=400)",
      "--set populations.a.size.x=2: cannot set 'x' inside populations.a.size, which is 3",
      "--set populations.b.size=4: population 'b' needs a 'model'",
      "--set projections.3.delay=2 ms: index 3 out of range in projections (it has 1 item)",
      "--set projections.rce.delay=2 ms: no item named 'rce' in projections (did you mean 'rec'?)"]),
    ("override-value-problems", {"net.yaml": """\
        time: {duration: 1 s}
        populations:
          a: {size: 3, model: lif}
        """}, ["--set", "populations.a.size=-3", "--set", "populations.b.size=3"],
     ["--set populations.a.size=-3: 'size' must be >= 1 (got -3)",
      "--set populations.b.size=3: population 'b' needs a 'model'"]),
    ("missing-sections", {"net.yaml": "name: empty\n"}, [],
     ["net.yaml:1:1: missing key 'populations' in the netlist",
      "net.yaml:1:1: missing key 'time' in the netlist"]),
    ("not-a-mapping", {"net.yaml": "- a\n- b\n"}, [],
     ["net.yaml:1:1: a netlist must be a mapping of sections (got a list of 2)"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_validate_refuses_bad_input_with_exact_messages(case, tmp_path, write, evsim, monkeypatch):
    """Each class of bad input gives exit status 2, exactly its message lines, and a problem count."""
    _, files, extra, expected = case
    for name, text in files.items():
        write(name, text)
    monkeypatch.chdir(tmp_path)
    code, out, err = evsim("validate", "net.yaml", *extra)
    lines = [line.replace("{d}", str(tmp_path)) for line in expected]
    n = len(lines)
    assert err == "\n".join(lines) + f"\nevsim: {n} problem{'s' if n != 1 else ''} found\n"
    assert (code, out) == (2, "")


def test_validate_missing_netlist_file(tmp_path, evsim, monkeypatch):
    """A netlist file that does not exist is one problem naming it, exit status 2."""
    monkeypatch.chdir(tmp_path)
    assert evsim("validate", "nope.yaml") == (2, "", "nope.yaml: file not found\nevsim: 1 problem found\n")
    assert evsim("validate", ".") == (2, "", ".: is a directory, not a netlist file\nevsim: 1 problem found\n")


def test_validate_refuses_absurd_sizes_by_memory_estimate(write, evsim, memory_limit, tmp_path, monkeypatch):
    """A network whose estimated memory exceeds EVSIM_MEMORY_LIMIT is refused before anything is built."""
    write("net.yaml", """\
        time: {duration: 1 s}
        populations:
          a: {size: 100000, model: lif}
        projections:
          - {name: huge, from: a, to: a, connect: all_to_all, weight: 1 mV, delay: 1 ms}
        """)
    memory_limit("1G")
    monkeypatch.chdir(tmp_path)
    code, out, err = evsim("validate", "net.yaml")
    assert (code, out) == (2, "")
    assert err == ("net.yaml:5:5: network too large: it needs about 484.3 GB (1e+10 synapses; largest projection "
                   "'huge' with 1e+10 synapses, largest population 'a' with 100000 neurons) but 1.0 GB is available "
                   "(EVSIM_MEMORY_LIMIT sets the limit)\nevsim: 1 problem found\n")


def test_validate_refuses_population_beyond_int32(write, evsim, tmp_path, monkeypatch):
    """Neuron indices are int32: a population or a network above 2^31 - 1 neurons is refused."""
    write("net.yaml", """\
        time: {duration: 1 s}
        populations:
          a: {size: 3000000000, model: lif}
          b: {size: 1500000000, model: lif}
          c: {size: 1500000000, model: lif}
        """)
    monkeypatch.chdir(tmp_path)
    code, _, err = evsim("validate", "net.yaml")
    assert code == 2
    assert err.splitlines()[:2] == [
        "net.yaml:3:3: too many neurons in all (expected at most 2147483647, the limit of int32 neuron indices, "
        "got 3000000000)",
        "net.yaml:3:13: population size too large (expected at most 2147483647, got 3000000000)"]


def test_validate_reports_all_problems_of_a_file_at_once(write, evsim, tmp_path, monkeypatch):
    """Problems in different sections and in different fields of one item are all reported, sorted by line."""
    write("net.yaml", """\
        time: {duration: 1 s, mode: grid, dt: 0.1 ms}
        populations:
          a: {size: -1, model: lif, params: {tau_m: 5 mV}}
          b: {size: 2, model: lif, sise: 3, params: {v_th: 1 s}}
        projections:
          - {from: b, to: b, connect: {probability: 2}, weight: 1 ms, delay: 0.01 ms, delya: 1 ms}
        record: {spikes: [c]}
        """)
    monkeypatch.chdir(tmp_path)
    code, _, err = evsim("validate", "net.yaml")
    assert code == 2
    assert err.splitlines() == [
        "net.yaml:3:13: 'size' must be >= 1 (got -1)",
        "net.yaml:3:45: a.params.tau_m: wrong unit (expected a time such as '20 ms', got '5 mV', a voltage)",
        "net.yaml:4:28: unknown key 'sise' in populations.b (expected one of 'size', 'model', 'like', 'params', "
        "'init', 'spikes', 'sequence', 'doc') (did you mean 'size'?)",
        "net.yaml:4:52: b.params.v_th: wrong unit (expected a voltage such as '-50 mV', got '1 s', a time)",
        "net.yaml:6:45: connection probability out of range (expected 0 <= p <= 1, got 2)",
        "net.yaml:6:57: b->b: weight: wrong unit (expected a voltage such as '-50 mV', got '1 ms', a time)",
        "net.yaml:6:70: b->b: delay below dt in grid mode (expected 0 or >= dt = 0.1 ms, got 10 us)",
        "net.yaml:6:79: unknown key 'delya' in projections[0] (expected one of 'name', 'from', 'to', 'connect', "
        "'weight', 'delay', 'port', 'doc') (did you mean 'delay'?)",
        "net.yaml:7:19: record.spikes names an unknown population 'c'",
        "evsim: 9 problems found"]


def test_validate_expansion_problems_have_locations(write, evsim, tmp_path, monkeypatch):
    """Problems seen only when values are read (a connection file out of range) point at the netlist line."""
    np.savez(tmp_path / "conn.npz", pre=np.array([0, 5]), post=np.array([1, 1]))
    write("net.yaml", """\
        time: {duration: 1 s}
        populations:
          a: {size: 3, model: lif}
        projections:
          - {from: a, to: a, connect: {file: conn.npz}, weight: 1 mV, delay: 1 ms}
        """)
    monkeypatch.chdir(tmp_path)
    assert evsim("validate", "net.yaml") == (
        2, "", "net.yaml:5:31: a->a: connection file column 'pre' out of range (expected 0 <= pre < 3, got 0 .. 5)\n"
               "evsim: 1 problem found\n")


def test_validate_subprocess_exit_status_and_no_traceback(write, tmp_path):
    """`python -m evsim validate` on a bad netlist exits 2 and prints no traceback."""
    path = write("bad.yaml", "time: {duration: 1 s}\npopulations: {a: {size: 2, model: nope}}\n")
    proc = subprocess.run([sys.executable, "-m", "evsim", "validate", path], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert proc.stderr.startswith(f"{path}:2:35: unknown model 'nope'")


def test_validate_names_bad_items_by_position(write, evsim, tmp_path, monkeypatch):
    """A population name that is not text and a projection that is not a mapping are named where they are."""
    write("net.yaml", """\
        time: {duration: 1 s}
        populations: {1: {size: 2, model: lif}, a: {size: 2, model: lif}}
        projections:
          - {from: 5, to: a, connect: all_to_all, weight: 1 mV}
          - 7
        """)
    monkeypatch.chdir(tmp_path)
    assert evsim("validate", "net.yaml") == (2, "", "\n".join([
        "net.yaml:2:15: name 1 in populations must be text",
        "net.yaml:4:12: 'from' has the wrong type (expected a text or a list, got 5)",
        "net.yaml:5:5: projections[1] has the wrong type (expected a mapping, got 7)",
        "evsim: 3 problems found"]) + "\n")
