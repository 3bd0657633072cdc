"""The population graph (netspec.graph): processing stages, summary, GraphML and DOT from `evsim graph`."""
from __future__ import annotations

import math
import textwrap

import networkx as nx
import pytest

import netspec
from netspec import graph as G

CHAIN = """\
name: chain
seed: 3
time: {duration: 1 s}
populations:
  src: {size: 2, model: spike_times, spikes: {times: [1 ms], ids: [0]}}
  a: {size: 3, model: lif}
  b: {size: 4, model: lif}
  c: {size: 5, model: lif}
  d: {size: 1, model: if}
projections:
  - {name: sa, from: src, to: a, connect: all_to_all, weight: 1 mV}
  - {name: ab, from: a, to: [b, c], connect: all_to_all, weight: 1 mV, delay: 0 ms}
  - {name: bc, from: b, to: c, connect: {in_degree: 2}, weight: 1 mV, delay: 0 ms}
  - {name: ca, from: c, to: a, connect: {probability: 0.5}, weight: 1 mV, delay: {uniform: [1 ms, 2 ms]}}
  - {name: dd, from: d, to: d, connect: all_to_all, weight: 1 mV, delay: 0.5 ms}
"""


@pytest.fixture
def chain():
    return netspec.loads(CHAIN)


def test_processing_order_puts_zero_delay_targets_in_later_stages(chain):
    """Stages: a zero-delay projection always goes from an earlier stage to a later one; delayed ones do not count."""
    assert G.processing_order(chain) == [["src", "d"], ["a"], ["b"], ["c"]]


def test_processing_order_without_zero_delays_is_one_stage():
    """With every delay positive, all populations share one stage (in netlist order)."""
    net = netspec.loads(CHAIN.replace("weight: 1 mV}", "weight: 1 mV, delay: 1 ms}").replace("delay: 0 ms", "delay: 1 ms"))
    assert G.processing_order(net) == [["src", "a", "b", "c", "d"]]


def test_processing_order_uses_expanded_delay_ranges(chain):
    """Delay ranges from expanded arrays replace the stated ones (a file may hold only positive delays)."""
    ranges = {"sa": (1e-3, 1e-3), "ab": (1e-3, 2e-3), "bc": (0.0, 0.0)}
    assert G.processing_order(chain, ranges) == [["src", "a", "b", "d"], ["c"]]


def test_summary_text(chain):
    """The summary lists populations, projections with rule, port, delay range and synapse count, and the stages."""
    arrays = netspec.expand(chain)
    counts = {p.name: p.size for p in arrays.projections}
    lo, hi = arrays.delay_ranges()["ca"]
    assert G.summary(chain, arrays.delay_ranges(), counts) == textwrap.dedent(f"""\
        network chain: 5 populations, 15 neurons, 5 projections
          population src: 2 x spike_times
          population a: 3 x lif
          population b: 4 x lif
          population c: 5 x lif
          population d: 1 x if
          projection sa: src -> a [all_to_all] port exc, delay 0 s .. 0 s, 6 synapses
          projection ab: a -> b+c [all_to_all] port exc, delay 0 s .. 0 s, 27 synapses
          projection bc: b -> c [in_degree] port exc, delay 0 s .. 0 s, 10 synapses
          projection ca: c -> a [probability] port exc, delay {lo * 1e3:.4g} ms .. {hi * 1e3:.4g} ms, {counts['ca']} synapses
          projection dd: d -> d [all_to_all] port exc, delay 0.5 ms .. 0.5 ms, 1 synapse
          delays: min 0 s, max {hi * 1e3:.4g} ms
          zero-delay stages: src, d | a | b | c""")


def test_summary_without_expansion_uses_stated_ranges(chain):
    """Without arrays the summary shows the netlist's stated delay ranges and no counts."""
    lines = G.summary(chain).splitlines()
    assert lines[9] == "  projection ca: c -> a [probability] port exc, delay 1 ms .. 2 ms"


def test_build_graph_has_one_edge_per_population_pair(chain):
    """Nodes are populations (size, model); each projection gives one edge per (source, target) pair, keys unique."""
    g = G.build_graph(chain)
    assert list(g.nodes(data=True))[1] == ("a", {"size": 3, "model": "lif"})
    assert sorted(k for _, _, k in g.edges(keys=True)) == ["ab[a->b]", "ab[a->c]", "bc", "ca", "dd", "sa"]
    ca = g.edges["c", "a", "ca"]
    assert (ca["rule"], ca["min_delay"], ca["max_delay"], ca["loc"]) == ("probability", 0.001, 0.002, "<string>:14:5")


def test_evsim_graph_writes_graphml_and_dot(tmp_path, evsim):
    """`evsim graph --graphml --dot` prints the summary and writes both files, with per-edge synapse counts."""
    path = tmp_path / "chain.yaml"
    path.write_text(CHAIN)
    code, out, err = evsim("graph", path, "--graphml", tmp_path / "g.graphml", "--dot", tmp_path / "g.dot")
    assert (code, err) == (0, "")
    assert out.startswith("network chain: 5 populations, 15 neurons, 5 projections\n")
    g = nx.read_graphml(tmp_path / "g.graphml")
    assert sorted(g.nodes) == ["a", "b", "c", "d", "src"] and g.nodes["c"] == {"size": 5, "model": "lif"}
    edges = {(a, b): d for a, b, d in g.edges(data=True)}
    assert (edges["a", "b"]["synapses"], edges["a", "c"]["synapses"], edges["src", "a"]["synapses"]) == (12, 15, 6)
    assert edges["a", "b"]["projection"] == "ab" and edges["d", "d"]["min_delay"] == 0.0005
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith('digraph "chain" {\n  "src" [label="src\\n2 x spike_times"];\n')
    assert '  "a" -> "c" [label="ab\\n0-0 ms"];\n' in dot and '  "d" -> "d" [label="dd\\n0.5-0.5 ms"];\n' in dot
    assert dot.endswith("}\n")


def test_dot_escapes_quotes_and_marks_unknown_delays():
    """DOT output escapes quotes in names and leaves out delays the netlist does not state."""
    g = nx.MultiDiGraph(name='say "hi"')
    g.add_node("a", size=1, model="lif")
    g.add_edge("a", "a", key="p", projection='p"q', min_delay=math.nan, max_delay=math.nan)
    assert G.to_dot(g) == ('digraph "say \\"hi\\"" {\n  "a" [label="a\\n1 x lif"];\n'
                           '  "a" -> "a" [label="p\\"q"];\n}\n')


def test_zero_delay_cycles_listed_in_netlist_order():
    """Several zero-delay cycles are each reported once, starting at their first population, in netlist order."""
    net_text = CHAIN.replace("delay: {uniform: [1 ms, 2 ms]}", "delay: 0 ms").replace("delay: 0.5 ms", "delay: 0 s")
    with pytest.raises(netspec.NetlistError) as info:
        netspec.loads(net_text)
    loops = [line.split(": ")[1] for line in str(info.value).splitlines()]
    assert loops == ["zero-delay cycle a -> b -> c -> a", "zero-delay cycle a -> c -> a",
                     "zero-delay cycle d -> d"]
