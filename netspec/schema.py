"""The shape of a netlist, written once.

The tables here drive the loader's structural checks (unknown keys with a did-you-mean,
missing keys, wrong types) and generate the JSON Schema shipped as ``netlist.schema.json``
for editors. Meaning (units, bounds, references between sections) is checked in
:mod:`netspec.loader`, against the same names.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import did_you_mean, one_of, show


# ----------------------------------------------------------------------------- node types
class Node:
    doc = ""

    def shape(self) -> str:
        """How the expected value is described in a problem message."""
        raise NotImplementedError

    def accepts_type(self, value) -> bool:
        raise NotImplementedError

    def json(self) -> dict:
        raise NotImplementedError


@dataclass
class Text(Node):
    doc: str = ""
    enum: tuple | None = None

    def shape(self):
        return one_of(self.enum) if self.enum else "a text"

    def accepts_type(self, v):
        return isinstance(v, str)

    def json(self):
        out = {"type": "string"}
        if self.enum:
            out["enum"] = list(self.enum)
        return _doc(out, self.doc)


@dataclass
class Integer(Node):
    doc: str = ""
    min: int | None = None

    def shape(self):
        return "a whole number" if self.min is None else f"a whole number >= {self.min}"

    def accepts_type(self, v):
        return isinstance(v, int) and not isinstance(v, bool)

    def json(self):
        out = {"type": "integer"}
        if self.min is not None:
            out["minimum"] = self.min
        return _doc(out, self.doc)


@dataclass
class Number(Node):
    doc: str = ""

    def shape(self):
        return "a number"

    def accepts_type(self, v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    def json(self):
        return _doc({"type": "number"}, self.doc)


@dataclass
class Boolean(Node):
    doc: str = ""

    def shape(self):
        return "true or false"

    def accepts_type(self, v):
        return isinstance(v, bool)

    def json(self):
        return _doc({"type": "boolean"}, self.doc)


@dataclass
class Quantity(Node):
    """A number (SI) or a string with a unit; ``unit`` names the expected dimension."""

    doc: str = ""
    unit: str | None = None

    def shape(self):
        return "a quantity such as " + _EXAMPLES.get(self.unit, "'20 ms'") if self.unit else "a quantity"

    def accepts_type(self, v):
        return isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool))

    def json(self):
        return _doc({"type": ["number", "string"]}, self.doc)


_EXAMPLES = {"second": "'20 ms'", "volt": "'-50 mV'", "hertz": "'10 Hz'", "ampere": "'1.5 nA'"}


@dataclass
class Struct(Node):
    fields: dict = field(default_factory=dict)   # key -> Node
    required: tuple = ()
    doc: str = ""

    def shape(self):
        return "a mapping"

    def accepts_type(self, v):
        return isinstance(v, dict)

    def json(self):
        out = {"type": "object", "properties": {k: n.json() for k, n in self.fields.items()},
               "additionalProperties": False}
        if self.required:
            out["required"] = list(self.required)
        return _doc(out, self.doc)


@dataclass
class MapOf(Node):
    """A mapping from user-chosen names to values of one type."""

    value: Node = None
    doc: str = ""

    def shape(self):
        return "a mapping of names"

    def accepts_type(self, v):
        return isinstance(v, dict)

    def json(self):
        return _doc({"type": "object", "additionalProperties": self.value.json()}, self.doc)


@dataclass
class ListOf(Node):
    item: Node = None
    doc: str = ""
    min_items: int = 0

    def shape(self):
        return "a list"

    def accepts_type(self, v):
        return isinstance(v, list)

    def json(self):
        out = {"type": "array", "items": self.item.json()}
        if self.min_items:
            out["minItems"] = self.min_items
        return _doc(out, self.doc)


@dataclass
class Either(Node):
    """One of several shapes, told apart by the YAML type (text, number, mapping, list)."""

    options: tuple = ()
    doc: str = ""

    def shape(self):
        return " or ".join(o.shape() for o in self.options)

    def accepts_type(self, v):
        return any(o.accepts_type(v) for o in self.options)

    def pick(self, v) -> Node | None:
        for o in self.options:
            if o.accepts_type(v):
                return o
        return None

    def json(self):
        return _doc({"anyOf": [o.json() for o in self.options]}, self.doc)


@dataclass
class Any(Node):
    doc: str = ""

    def shape(self):
        return "a value"

    def accepts_type(self, v):
        return True

    def json(self):
        return _doc({}, self.doc)


def _doc(out: dict, doc: str) -> dict:
    if doc:
        out["description"] = doc
    return out


# ----------------------------------------------------------------------------- the netlist
def value_node(doc: str, extra: dict | None = None) -> Node:
    """A value given as a quantity or a distribution (one key of DISTRIBUTIONS)."""
    dists = dict(DISTRIBUTIONS)
    dists.update(extra or {})
    return Either((Quantity(), DistributionNode(dists)), doc=doc)


@dataclass
class DistributionNode(Node):
    """A mapping with exactly one distribution key, e.g. ``{uniform: [1 ms, 2 ms]}``."""

    kinds: dict = field(default_factory=dict)  # key -> Node of its argument
    doc: str = ""

    def shape(self):
        return "a distribution (" + one_of(self.kinds) + ")"

    def accepts_type(self, v):
        return isinstance(v, dict)

    def json(self):
        return {"type": "object", "minProperties": 1, "maxProperties": 1,
                "properties": {k: n.json() for k, n in self.kinds.items()}, "additionalProperties": False,
                "description": "a distribution: " + ", ".join(self.kinds)}


FILE_VALUES = Struct({
    "path": Text(doc="a .npy, .npz or .csv file, relative to the netlist"),
    "key": Text(doc="array name in a .npz, column name in a .csv"),
    "unit": Text(doc="unit of the numbers in the file (default: SI)"),
}, required=("path",), doc="values read from a file")

DISTRIBUTIONS = {
    "uniform": ListOf(Quantity(), doc="[low, high): uniform", min_items=2),
    "normal": Struct({"mean": Quantity(), "std": Quantity(), "min": Quantity(), "max": Quantity()},
                     required=("mean", "std"),
                     doc="normal; values outside [min, max] are drawn again"),
    "values": ListOf(Quantity(), doc="one value per element"),
    "file": Either((Text(), FILE_VALUES), doc="values from a file"),
    "beta": Struct({"a": Number(), "b": Number(), "low": Quantity(), "high": Quantity()}, required=("a", "b"),
                   doc="Beta(a, b) scaled to [low, high] (default [0, 1])"),
}

WEIGHT_EXTRA = {
    "ternary": Struct({"value": Quantity(), "p": ListOf(Number(), min_items=3)}, required=("value", "p"),
                      doc="weights in {-value, 0, +value} with probabilities p = [p_minus, p_zero, p_plus]"),
    "column": Either((Text(), Struct({"name": Text(), "unit": Text()}, required=("name",))),
                     doc="per-synapse values from a column of the connection file"),
}

SPIKES = Either((
    ListOf(ListOf(Quantity()), doc="spike times, one list per neuron"),
    Struct({
        "times": ListOf(Quantity(unit="second")),
        "ids": ListOf(Integer(min=0)),
        "file": Text(doc=".npz with arrays times, ids; or .csv with columns time, id"),
        "unit": Text(doc="unit of the times in the file (default: seconds)"),
    }, doc="spikes as parallel lists, or from a file"),
), doc="explicit spikes of a spike_times source")

SEQUENCE = Struct({
    "file": Text(doc=".npy or .csv (dense, steps x size), .npz with 'key' (dense), or .npz with arrays "
                     "times (or steps), ids, values (events)"),
    "key": Text(doc="array name of the dense rows in an .npz"),
    "unit": Text(doc="unit of the event times in the file (default: seconds)"),
    "rows": ListOf(ListOf(Number()), doc="dense values, one row (a value per element) per step"),
    "times": ListOf(Quantity(unit="second"), doc="event times (whole multiples of dt)"),
    "ids": ListOf(Integer(min=0), doc="event element ids"),
    "values": ListOf(Number(), doc="event values"),
}, doc="input values of a sequence source: dense rows per step, or events (times, ids, values)")

POPULATION = Struct({
    "size": Integer(min=1, doc="number of neurons"),
    "model": Text(doc="registered model name (evsim models lists them)"),
    "like": Text(doc="copy model, size, params, init and spikes from another population"),
    "params": MapOf(value_node("a parameter: a quantity or a distribution")),
    "init": MapOf(value_node("an initial state value: a quantity or a distribution")),
    "spikes": SPIKES,
    "sequence": SEQUENCE,
    "doc": Text(doc="free text"),
}, doc="a group of neurons of one model")

CONNECT_KEYS = {
    "probability": Number(doc="each (source, target) pair connected independently with this probability"),
    "in_degree": Integer(min=0, doc="each target gets exactly this many sources"),
    "out_degree": Integer(min=0, doc="each source gets exactly this many targets"),
    "pairs": ListOf(ListOf(Integer(min=0), min_items=2), doc="explicit [source, target] index pairs"),
    "file": Text(doc=".npz with arrays pre, post (and optional weight, delay columns), or .csv"),
    "all_to_all": Boolean(), "one_to_one": Boolean(),
    "allow_self": Boolean(doc="allow a neuron to connect to itself (default true)"),
    "multapses": Boolean(doc="allow repeated pairs with in_degree/out_degree (default false)"),
}
CONNECT_RULE_KEYS = ("probability", "in_degree", "out_degree", "pairs", "file", "all_to_all", "one_to_one")

CONNECT = Either((Text(enum=("all_to_all", "one_to_one")), Struct(CONNECT_KEYS)),
                 doc="connectivity rule")

NAMES = Either((Text(), ListOf(Text(), min_items=1)), doc="a population name or a list of them")

PROJECTION = Struct({
    "name": Text(doc="name used in messages and training output (default: pre->post)"),
    "from": NAMES,
    "to": NAMES,
    "connect": CONNECT,
    "weight": value_node("synaptic weight", WEIGHT_EXTRA),
    "delay": value_node("transmission delay", {"column": WEIGHT_EXTRA["column"]}),
    "port": Text(doc="input port of the target model (default: the model's first port)"),
    "doc": Text(),
}, required=("from", "to", "connect", "weight"), doc="synapses from some populations to others")

STATE_RECORD = Struct({
    "vars": ListOf(Text(), min_items=1),
    "neurons": Either((Text(enum=("all",)), ListOf(Integer(min=0))), doc="indices, or all"),
    "every": Quantity(unit="second", doc="sampling interval (default dt in grid mode, 0.1 ms in exact mode)"),
}, required=("vars",))

RECORD = Struct({
    "spikes": Either((Text(enum=("all", "none")), ListOf(Text())), doc="populations whose spikes are kept"),
    "state": MapOf(STATE_RECORD, doc="population -> what to sample"),
}, doc="what a run keeps (default: every population's spikes)")

TIME = Struct({
    "duration": Quantity(unit="second", doc="simulated time (or give steps)"),
    "steps": Integer(min=1, doc="number of dt steps instead of a duration (dt defaults to 1 s: times read as steps)"),
    "mode": Text(enum=("exact", "grid", "steps"),
                 doc="exact: continuous time; grid: a dt grid, Brian2's schedule; steps: discrete time "
                     "(event-gated units, one step per sequence element)"),
    "dt": Quantity(unit="second", doc="grid step (required in grid mode; default 1 s with steps)"),
})

TRAIN_GROUP = Struct({
    "optimizer": Text(enum=("adam", "sgd"), doc="default adam"),
    "lr": Quantity(doc="learning rate in the group's unit (Adam: the step size), e.g. '5 mV' or '0.1 ms'"),
    "schedule": Text(enum=("constant", "exponential", "cosine"), doc="learning-rate schedule over epochs"),
    "lr_decay": Quantity(doc="exponential schedule: learning-rate factor per epoch"),
    "lr_final": Quantity(doc="cosine schedule: final learning rate as a fraction of lr (default 0)"),
    "momentum": Quantity(doc="sgd"), "beta1": Quantity(doc="adam"), "beta2": Quantity(doc="adam"),
    "eps": Quantity(doc="adam"),
    "min": Quantity(doc="lowest value (delays: default 0)"), "max": Quantity(doc="highest value"),
    "clip_norm": Quantity(doc="largest L2 norm of the group's gradient per step (SI units; default: no clipping)"),
    "weight_decay": Quantity(doc="weights: decoupled weight decay per step, scaled by the schedule (default 0)"),
    "min_recurrent": Quantity(doc="delays: lowest delay on projections that close a cycle (default 0.1 ms)"),
}, doc="settings of one parameter group")

TRAIN_LOSS = Struct({
    "kind": Text(enum=("ttfs", "max_v", "cross_entropy", "mse"),
                 doc="ttfs: time-to-first-spike cross-entropy; max_v: max-over-time membrane; "
                     "cross_entropy, mse: event-gated networks (a readout of the last step)"),
    "tau0": Quantity(doc="ttfs: softmax time scale (default 0.5 ms)"),
    "tau1": Quantity(doc="ttfs: early-spike term time scale (default 6.4 ms)"),
    "alpha": Quantity(doc="ttfs: early-spike term weight (default 3e-3)"),
    "scale": Quantity(doc="max_v: membrane scale of the softmax (default 1 V)"),
    "reg_silent": Quantity(doc="pull silent hidden neurons towards threshold (default 0)"),
    "reg_upper": Quantity(doc="push the spikes of busy hidden neurons out of the trial (default 0)"),
    "target_spikes": Quantity(doc="spikes per hidden neuron per trial above which reg_upper acts (default 10)"),
    "reg_activity": Quantity(doc="event-gated networks: weight of the activity penalty (mean events per unit and step)"),
    "label_smoothing": Quantity(doc="event-gated networks: cross-entropy against targets eps / K on every class, "
                                    "1 - eps more on the true one (default 0)"),
}, doc="the loss")

TRAIN = Struct({
    "task": Text(doc="training task: yinyang, digits or delay_pattern"),
    "task_params": MapOf(Any(), doc="task settings (see the task's documentation)"),
    "params": Either((Text(enum=("delays", "weights", "both")),
                      ListOf(Text(enum=("weights", "delays", "biases", "thresholds")), min_items=1)),
                     doc="what is trained (event-gated networks: weights, or a list of weights, biases, thresholds)"),
    "estimator": Text(enum=("eventprop", "surrogate", "finite_difference")),
    "projections": ListOf(Text(), doc="names of the projections to train (default: all)"),
    "loss": Either((Text(enum=("ttfs", "max_v", "cross_entropy", "mse")), TRAIN_LOSS), doc="loss"),
    "epochs": Integer(min=1), "batch_size": Integer(min=1), "seed": Integer(min=0),
    "weights": TRAIN_GROUP, "delays": TRAIN_GROUP,
    "input": Text(doc="input population (default: the spike_times population)"),
    "output": Text(doc="output population (default: the last lif_exp population)"),
    "hidden": ListOf(Text(), doc="hidden populations, for the regulariser (default: the other lif_exp populations)"),
    "checkpoint": Text(doc="checkpoint file (default: <output directory>/<name>.ckpt.npz)"),
    "max_spikes": Integer(min=1, doc="spike buffer per trial, inputs included (default 4096)"),
    "select": Text(enum=("last", "best_val"),
                   doc="the parameters a run ends with: the last epoch's (default) or those of the epoch with the "
                       "highest validation accuracy (the earliest of equals)"),
}, doc="how the network is trained (evsim train)")

NETLIST = Struct({
    "name": Text(doc="network name"),
    "description": Text(),
    "seed": Integer(min=0, doc="seed of every random draw (default 0)"),
    "include": Either((Text(), ListOf(Text())), doc="netlists merged under this one (this one wins)"),
    "time": TIME,
    "precision": Text(enum=("double", "single"), doc="storage of weights and delays (default double)"),
    "populations": MapOf(POPULATION),
    "projections": ListOf(PROJECTION),
    "record": RECORD,
    "train": TRAIN,
}, required=("time", "populations"), doc="an evsim netlist")


# ----------------------------------------------------------------------------- checking
def check(node: Node, data, path: tuple, doc, problems, key_name: str | None = None) -> bool:
    """Checks ``data`` against ``node``; adds problems; returns whether the shape is right."""
    loc = doc.loc(path)
    if isinstance(node, Any):
        return True
    if isinstance(node, Either):
        chosen = node.pick(data)
        if chosen is None:
            problems.add(loc, f"{_what(path, key_name)} has the wrong type (expected {node.shape()}, got {show(data)})")
            return False
        return check(chosen, data, path, doc, problems, key_name)
    if not node.accepts_type(data):
        problems.add(loc, f"{_what(path, key_name)} has the wrong type (expected {node.shape()}, got {show(data)})")
        return False
    ok = True
    if isinstance(node, Text) and node.enum and data not in node.enum:
        problems.add(loc, f"unknown {_what(path, key_name)} {data!r} (expected {node.shape()})"
                     + did_you_mean(data, node.enum))
        return False
    if isinstance(node, Integer) and node.min is not None and data < node.min:
        problems.add(loc, f"{_what(path, key_name)} must be >= {node.min} (got {data})")
        return False
    if isinstance(node, Struct):
        for key, value in data.items():
            if key not in node.fields:
                problems.add(doc.key_loc(path + (key,)),
                             f"unknown key {key!r} in {_where(path)} (expected {one_of(node.fields)})"
                             + did_you_mean(key, node.fields))
                ok = False
                continue
            ok &= check(node.fields[key], value, path + (key,), doc, problems, key)
        for key in node.required:
            if key not in data:
                problems.add(loc, f"missing key {key!r} in {_where(path)}")
                ok = False
    elif isinstance(node, DistributionNode):
        keys = list(data)
        if len(keys) != 1 or keys[0] not in node.kinds:
            bad = [k for k in keys if k not in node.kinds]
            hint = did_you_mean(bad[0], node.kinds) if bad else ""
            problems.add(loc, f"{_what(path, key_name)}: expected a distribution with one key, "
                              f"{one_of(node.kinds)} (got {show(data)}){hint}")
            return False
        ok &= check(node.kinds[keys[0]], data[keys[0]], path + (keys[0],), doc, problems, keys[0])
    elif isinstance(node, MapOf):
        for key, value in data.items():
            if not isinstance(key, str):
                problems.add(doc.key_loc(path + (key,)), f"name {key!r} in {_where(path)} must be text")
                ok = False
                continue
            ok &= check(node.value, value, path + (key,), doc, problems, key)
    elif isinstance(node, ListOf):
        if len(data) < node.min_items:
            problems.add(loc, f"{_what(path, key_name)} needs at least {node.min_items} items (got {len(data)})")
            ok = False
        for i, item in enumerate(data):
            ok &= check(node.item, item, path + (i,), doc, problems, key_name)
    return ok


def check_fields(node: Struct, data, path: tuple, doc, problems, key_name=None, per_entry=()):
    """Checks a mapping against ``node`` field by field, so that the fields that are right can
    still be checked for meaning. Adds problems; returns None if ``data`` is not a mapping, else
    the set of fields whose shape is wrong: a key, or ``(key, name)`` for one entry of a
    :class:`MapOf` field listed in ``per_entry``. Unknown keys are reported but not returned
    (they carry no meaning to check). Missing required keys are returned."""
    if not isinstance(data, dict):
        check(node, data, path, doc, problems, key_name)
        return None
    bad = set()
    for key, value in data.items():
        if key not in node.fields:
            check(Struct({k: Any() for k in node.fields}), {key: value}, path, doc, problems, key_name)
            continue
        sub = node.fields[key]
        if key in per_entry and isinstance(sub, MapOf) and isinstance(value, dict):
            for name, item in value.items():
                if not check(sub, {name: item}, path + (key,), doc, problems, key):
                    bad.add((key, name))
        elif not check(sub, value, path + (key,), doc, problems, key):
            bad.add(key)
    for key in node.required:
        if key not in data:
            problems.add(doc.loc(path), f"missing key {key!r} in {_where(path)}")
            bad.add(key)
    return bad


def _what(path, key_name) -> str:
    if key_name is not None:
        return repr(key_name) if not isinstance(key_name, int) else f"item {key_name}"
    return _where(path)


def _where(path) -> str:
    if not path:
        return "the netlist"
    parts = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else ("." if parts else "") + str(p))
    return "".join(parts)


# ----------------------------------------------------------------------------- JSON Schema
def json_schema(models: dict | None = None) -> dict:
    """The JSON Schema of a netlist; with ``models``, per-model parameter names for editors."""
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "evsim netlist"}
    out.update(NETLIST.json())
    if models:
        pop = out["properties"]["populations"]["additionalProperties"]
        pop["properties"]["model"]["enum"] = sorted(models)
        rules = []
        for name, spec in sorted(models.items()):
            then = {"properties": {}}
            if spec.params:
                then["properties"]["params"] = {"propertyNames": {"enum": sorted(spec.params)}}
            if spec.state:
                then["properties"]["init"] = {"propertyNames": {"enum": sorted(spec.state)}}
            rules.append({"if": {"properties": {"model": {"const": name}}, "required": ["model"]}, "then": then})
        pop["allOf"] = rules
    return out


def json_schema_text(models: dict | None = None) -> str:
    return json.dumps(json_schema(models), indent=1, sort_keys=True) + "\n"
