"""The shipped JSON Schema (netspec/netlist.schema.json) stays in step with the loader and models."""
from __future__ import annotations

import json
import os

import jsonschema
import pytest
import yaml

import netspec
from netspec_cases import FULL, GRID, MINIMAL, yaml_model_files
from netspec import schema_file


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(schema_file.shipped_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_shipped_schema_is_current():
    """netlist.schema.json equals what `evsim schema` generates now (regenerate with `evsim schema -o netspec/netlist.schema.json`)."""
    assert schema_file.shipped_text() == schema_file.current_text()


def test_evsim_schema_writes_the_current_text(tmp_path, evsim):
    """`evsim schema -o FILE` writes the current schema; without -o it prints it."""
    out = tmp_path / "s.json"
    assert evsim("schema", "-o", out) == (0, "", "")
    assert out.read_text(encoding="utf-8") == schema_file.current_text()
    assert evsim("schema") == (0, schema_file.current_text(), "")


def test_schema_is_a_valid_draft_2020_12_schema(validator):
    """The schema is itself valid JSON Schema 2020-12 and lists the registered models."""
    schema = validator.schema
    assert schema["properties"]["populations"]["additionalProperties"]["properties"]["model"]["enum"] == \
        sorted(netspec.registry.names())


@pytest.mark.parametrize("path", yaml_model_files(), ids=os.path.basename)
def test_shipped_netlists_validate_against_schema(path, validator):
    """Every yaml_models/ file is valid under the shipped schema."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert list(validator.iter_errors(data)) == []


@pytest.mark.parametrize("text", [FULL, GRID, MINIMAL], ids=["full", "grid", "minimal"])
def test_example_netlists_validate_against_schema(text, validator):
    """The examples using every value form and connection rule are valid under the schema."""
    assert list(validator.iter_errors(yaml.safe_load(text))) == []


# netlists the loader refuses for their shape; the schema must refuse them too
SHAPE_ERRORS = {
    "unknown-top-level-key": "tme: 1\n",
    "missing-time": "time: null\n",
    "negative-size": "populations: {a: {size: -1, model: lif}}\n",
    "size-as-text": "populations: {a: {size: ten, model: lif}}\n",
    "unknown-population-key": "populations: {a: {size: 2, model: lif, sise: 2}}\n",
    "unknown-model": "populations: {a: {size: 2, model: lif_expp}}\n",
    "unknown-parameter": "populations: {a: {size: 2, model: lif, params: {tau: 1 ms}}}\n",
    "two-distributions": "populations: {a: {size: 2, model: lif, params: {tau_m: {uniform: [1 ms, 2 ms], "
                         "normal: {mean: 1 ms, std: 1 ms}}}}}\n",
    "normal-without-std": "populations: {a: {size: 2, model: lif, params: {tau_m: {normal: {mean: 1 ms}}}}}\n",
    "unknown-connect-key": "projections: [{from: a, to: a, connect: {probablity: 0.1}, weight: 1 mV}]\n",
    "projection-without-weight": "projections: [{from: a, to: a, connect: all_to_all}]\n",
    "projections-not-a-list": "projections: {from: a}\n",
    "unknown-time-mode": "time: {duration: 1 s, mode: gird}\n",
    "record-state-without-vars": "record: {state: {a: {neurons: all}}}\n",
    "bad-precision": "precision: quad\n",
}
BASE = {"time": {"duration": "1 s"}, "populations": {"a": {"size": 2, "model": "lif"}}}


@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS))
def test_schema_and_loader_refuse_the_same_bad_shapes(name, validator):
    """A structurally bad netlist is refused both by the loader and by the JSON Schema."""
    data = dict(BASE)
    data.update(yaml.safe_load(SHAPE_ERRORS[name]))
    if data.get("time") is None:
        del data["time"]
    with pytest.raises(netspec.NetlistError):
        netspec.loads(yaml.safe_dump(data))
    assert list(validator.iter_errors(data)) != []


def test_schema_accepts_base_of_bad_shapes(validator):
    """The netlist the bad shapes are made from is valid for both, so each refusal is due to its change."""
    netspec.loads(yaml.safe_dump(BASE))
    assert list(validator.iter_errors(BASE)) == []
