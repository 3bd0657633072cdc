"""Writing a :class:`~netspec.spec.Netlist` back out as YAML.

The output is canonical (every parameter written, ``like:`` resolved) and exact: loading it
gives an equal Netlist, because each number is written so that it reads back to the same
double. Paths to data files are written relative to the output file where possible.
"""
from __future__ import annotations

import os

import yaml

from . import spec as S
from .units import TIME, format_quantity


def to_data(netlist: S.Netlist, base_dir: str | None = None) -> dict:
    """The netlist as plain YAML-ready data."""
    out = {"name": netlist.name}
    if netlist.description:
        out["description"] = netlist.description
    out["seed"] = netlist.seed
    t = netlist.time
    out["time"] = {"duration": format_quantity(t.duration, TIME), "mode": t.mode}
    if t.dt is not None:
        out["time"]["dt"] = format_quantity(t.dt, TIME)
    out["precision"] = netlist.precision
    out["populations"] = {name: _population(p, base_dir) for name, p in netlist.populations.items()}
    if netlist.projections:
        out["projections"] = [_projection(p, base_dir) for p in netlist.projections]
    out["record"] = _record(netlist.record, netlist)
    if netlist.train is not None:
        out["train"] = _thaw(netlist.train)
    return out


def dumps(netlist: S.Netlist, base_dir: str | None = None) -> str:
    header = f"# evsim netlist {netlist.name!r}, written by evsim\n"
    return header + yaml.safe_dump(to_data(netlist, base_dir), sort_keys=False, allow_unicode=True,
                                   width=100, default_flow_style=None)


def save(netlist: S.Netlist, path: str) -> None:
    """Writes the netlist to ``path`` atomically (a temporary file, then a rename)."""
    from .atomic import write_text

    write_text(path, dumps(netlist, os.path.dirname(os.path.abspath(path))))


def value(v, base_dir=None):
    """A value spec as netlist data."""
    if isinstance(v, S.Const):
        return format_quantity(v.value, v.dim)
    if isinstance(v, S.Uniform):
        return {"uniform": [format_quantity(v.low, v.dim), format_quantity(v.high, v.dim)]}
    if isinstance(v, S.Normal):
        d = {"mean": format_quantity(v.mean, v.dim), "std": format_quantity(v.std, v.dim)}
        if v.min is not None:
            d["min"] = format_quantity(v.min, v.dim)
        if v.max is not None:
            d["max"] = format_quantity(v.max, v.dim)
        return {"normal": d}
    if isinstance(v, S.Values):
        return {"values": [format_quantity(x, v.dim) for x in v.values]}
    if isinstance(v, S.FromFile):
        d = {"path": _path(v.path, base_dir)}
        if v.key is not None:
            d["key"] = v.key
        if v.unit is not None:
            d["unit"] = v.unit
        return {"file": d}
    if isinstance(v, S.Ternary):
        return {"ternary": {"value": format_quantity(v.value, v.dim), "p": list(v.p)}}
    if isinstance(v, S.Beta):
        d = {"a": v.a, "b": v.b}
        if (v.low, v.high) != (0.0, 1.0):
            d["low"] = format_quantity(v.low, v.dim)
            d["high"] = format_quantity(v.high, v.dim)
        return {"beta": d}
    if isinstance(v, S.Column):
        d = {"name": v.name}
        if v.unit is not None:
            d["unit"] = v.unit
        return {"column": d}
    raise TypeError(v)


def _path(path: str, base_dir):
    if base_dir is None:
        return path
    rel = os.path.relpath(path, base_dir)
    return rel if not rel.startswith("..") else path


def _population(p: S.Population, base_dir):
    from . import registry

    d = {"size": p.size, "model": p.model}
    model = registry.get(p.model)
    if p.params:
        d["params"] = {}
        for k, v in p.params.items():
            par = model.params.get(k) if model is not None else None
            if par is not None and par.choices is not None and isinstance(v, S.Const):
                d["params"][k] = par.choices[int(v.value)]   # written as the word
            else:
                d["params"][k] = value(v, base_dir)
    if p.init:
        d["init"] = {k: value(v, base_dir) for k, v in p.init.items()}
    if isinstance(p.spikes, S.SpikeList):
        d["spikes"] = {"times": [format_quantity(t, TIME) for t in p.spikes.times], "ids": list(p.spikes.ids)}
    elif isinstance(p.spikes, S.SpikeFile):
        d["spikes"] = {"file": _path(p.spikes.path, base_dir)}
        if p.spikes.unit is not None:
            d["spikes"]["unit"] = p.spikes.unit
    sq = p.sequence
    if isinstance(sq, S.SequenceRows):
        d["sequence"] = {"rows": [list(r) for r in sq.rows]}
    elif isinstance(sq, S.SequenceEvents):
        d["sequence"] = {"times": [format_quantity(t, TIME) for t in sq.times], "ids": list(sq.ids),
                         "values": list(sq.values)}
    elif isinstance(sq, S.SequenceFile):
        d["sequence"] = {"file": _path(sq.path, base_dir)}
        if sq.key is not None:
            d["sequence"]["key"] = sq.key
        if sq.unit is not None:
            d["sequence"]["unit"] = sq.unit
    return d


def _connect(c: S.Connect, base_dir):
    d = {}
    if c.rule in ("all_to_all", "one_to_one"):
        d[c.rule] = True
    elif c.rule == "probability":
        d["probability"] = c.p
    elif c.rule in ("in_degree", "out_degree"):
        d[c.rule] = c.k
    elif c.rule == "pairs":
        d["pairs"] = [[a, b] for a, b in zip(c.pre, c.post)]
    elif c.rule == "file":
        d["file"] = _path(c.path, base_dir)
    if not c.allow_self:
        d["allow_self"] = False
    if c.multapses:
        d["multapses"] = True
    if list(d) == [c.rule] and d[c.rule] is True:
        return c.rule
    return d


def _projection(p: S.Projection, base_dir):
    return {
        "name": p.name,
        "from": list(p.pre) if len(p.pre) > 1 else p.pre[0],
        "to": list(p.post) if len(p.post) > 1 else p.post[0],
        "connect": _connect(p.connect, base_dir),
        "weight": value(p.weight, base_dir),
        "delay": value(p.delay, base_dir),
        "port": p.port,
    }


def _record(r: S.RecordSpec, netlist):
    d = {"spikes": list(r.spikes) if r.spikes else "none"}
    if r.state:
        d["state"] = {}
        for s in r.state:
            e = {"vars": list(s.vars), "neurons": "all" if s.neurons is None else list(s.neurons)}
            if s.every is not None:
                e["every"] = format_quantity(s.every, TIME)
            d["state"][s.population] = e
    return d


def _thaw(x):
    if isinstance(x, dict):
        return {k: _thaw(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return [_thaw(v) for v in x]
    return x
