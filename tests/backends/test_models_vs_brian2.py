"""Every shipped model in yaml_models/ against Brian2, in grid mode.

Each ``yaml_models/*.yaml`` is run on the event engine and on Brian2 (numpy target) from the
same expanded arrays, with ``time.mode=grid`` and the overrides of its ``# crosscheck:`` header
line, and compared by :func:`backends.compare.compare` with the automatic verdict: spike for
spike (every spike matched within half a step) unless a population of more than 100 neurons is on
a cycle of projections (CUBA, Brunel), which are compared statistically (mean rate within 5 %,
mean ISI CV within 10 %). A model added to yaml_models/ is picked up without a new test; its
header may shorten or lengthen the run for the check:

    # crosscheck: duration=2 s
    # crosscheck: duration=200 ms; populations.exc.size=400     (';' separates overrides)

``duration`` stands for ``time.duration``; any other key is a netlist override path
(``--set`` syntax). Where the verdict is spike for spike, the counters of spikes and synaptic
events must agree too. Run with ``-s`` to see each report.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import backends
import netspec
from backends import compare as C
from simcore.egru.network import is_gated

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "yaml_models").glob("*.yaml"))
CROSSCHECK = re.compile(r"^#\s*crosscheck:\s*(.*?)\s*$")
SHORTHANDS = {"duration": "time.duration"}


def crosscheck_overrides(path) -> list[str]:
    """The overrides of a model's ``# crosscheck:`` lines (in its leading comment block)."""
    out = []
    for line in Path(path).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break                                 # only the header counts
        m = CROSSCHECK.match(line.strip())
        if not m:
            continue
        for item in filter(None, (s.strip() for s in m.group(1).split(";"))):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"{path}: '# crosscheck:' items read key=value (got {item!r})")
            out.append(f"{SHORTHANDS.get(key.strip(), key.strip())}={value.strip()}")
    return out


def test_models_are_found():
    assert len(MODELS) >= 5, f"expected the shipped models in {ROOT / 'yaml_models'}"


def test_crosscheck_header_lines_are_read(tmp_path):
    p = tmp_path / "m.yaml"
    p.write_text("# title\n# crosscheck: duration=200 ms; populations.a.size=3\n#crosscheck:seed=4\n"
                 "name: m\n# crosscheck: duration=1 s\n")
    assert crosscheck_overrides(p) == ["time.duration=200 ms", "populations.a.size=3", "seed=4"]
    p.write_text("# crosscheck: 200 ms\nname: m\n")
    with pytest.raises(ValueError, match="key=value"):
        crosscheck_overrides(p)


@pytest.mark.brian2
@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_model_agrees_with_brian2_in_grid_mode(path):
    if is_gated(netspec.load(path)):
        pytest.skip(f"{path.name}: event-gated units (egru) have no Brian2 translation; checked against the dense "
                    f"reference in tests/simcore/test_egru.py")
    overrides = ["time.mode=grid", *crosscheck_overrides(path)]
    net = netspec.load(path, overrides=overrides)
    assert net.time.dt, f"{path.name}: time.dt must be set so that the model runs in grid mode"
    arrays = netspec.expand(net)
    ours = backends.run(arrays, backend="event")
    ref = backends.run(arrays, backend="brian2")
    report = C.compare(ours, ref, arrays, verdict=C.AUTO, label_a="event", label_b="brian2")
    text = report.to_text()
    print(f"\n{path.name} (grid, dt {net.time.dt * 1e3:g} ms, {net.time.duration * 1e3:g} ms; "
          f"overrides: {', '.join(overrides)})\n{text}")
    compared = [p for p in report.populations if not p.source]
    assert compared, f"{path.name}: no neuron population's spikes recorded, nothing compared"
    assert sum(p.n_b for p in compared) > 0, f"{path.name}: Brian2 produced no spikes: a vacuous check"
    assert report.passed, text
    if report.verdict == C.SPIKES:
        # the same spikes, so the same counts of spikes and of synaptic events delivered in the run
        for name in arrays.populations:
            for key in ("spikes", "synaptic_events"):
                assert ours.counters[name][key] == ref.counters[name][key], (name, key)
