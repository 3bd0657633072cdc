"""From YAML text to a checked :class:`~netspec.spec.Netlist`.

Steps: parse with locations; merge ``include:`` files (the including file wins, projection
lists are concatenated); apply command-line overrides; check the shape against
:mod:`netspec.schema`; then check meaning (units, bounds, references, the delay graph) and
build the spec. Every problem found is collected and raised together as one NetlistError.
"""
from __future__ import annotations

import math
import os

import yaml

from . import registry
from . import spec as S
from .errors import Location, NetlistError, Problem, Problems, did_you_mean, one_of, show
from .schema import CONNECT_RULE_KEYS, NETLIST, check, check_fields
from .source import Located, load_file, parse, walk
from .units import TIME, parse_dim
from .values import default_value, doc_get, read_quantity, read_unit, read_value, resolve_path, value_range

MAX_NEURONS = 2**31 - 1        # neuron indices are int32 in the engine


class Warnings(list):
    """Things that are legal but probably not meant (a 20 s membrane time constant)."""


# ----------------------------------------------------------------------------- entry points
def load(path, overrides=(), warnings: list | None = None) -> S.Netlist:
    """Reads, merges, overrides and checks a netlist file.

    ``overrides`` are ``'dotted.path=value'`` strings (values in YAML syntax), applied after
    includes. Raises :class:`NetlistError` listing every problem found.
    """
    doc, files = read_with_includes(str(path))
    return _override_and_build(doc, overrides, os.path.dirname(os.path.abspath(str(path))), files, warnings)


def loads(text: str, filename: str = "<string>", base_dir: str = ".", overrides=(),
          warnings: list | None = None) -> S.Netlist:
    """Like :func:`load`, from text; ``include:`` paths are relative to ``base_dir``."""
    doc = parse(text, filename)
    files = [filename]
    doc = _resolve_includes(doc, os.path.abspath(base_dir), [filename], files)
    return _override_and_build(doc, overrides, os.path.abspath(base_dir), files, warnings)


def _override_and_build(doc, overrides, base_dir, files, warnings):
    """Applies the overrides that can be applied, checks the result, and reports the problems
    of both together (a misspelt override path hides no problem of the netlist)."""
    bad = []
    doc = apply_overrides(doc, overrides, bad)
    try:
        net = build(doc, base_dir, files, warnings)
    except NetlistError as exc:
        raise NetlistError(bad + exc.problems) from None
    if bad:
        raise NetlistError(bad)
    return net


# ----------------------------------------------------------------------------- includes
def read_with_includes(path: str) -> tuple[Located, list]:
    files = [path]
    doc = load_file(path)
    doc = _resolve_includes(doc, os.path.dirname(os.path.abspath(path)), [os.path.abspath(path)], files)
    return doc, files


def _resolve_includes(doc: Located, base_dir: str, stack: list, files: list) -> Located:
    data = doc.data
    if not isinstance(data, dict) or "include" not in data:
        return doc
    raw = data["include"]
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise NetlistError(Problem(doc.loc(("include",)),
                                   f"'include' has the wrong type (expected a file name or a list of them, got {show(raw)})"))
    merged = None
    problems = []
    for i, item in enumerate(items):
        ipath = ("include",) if isinstance(raw, str) else ("include", i)
        loc = doc.loc(ipath)
        target = resolve_path(item, base_dir)
        if target in stack:
            chain = " -> ".join(os.path.basename(s) for s in stack[stack.index(target):] + [target])
            problems.append(Problem(loc, f"include cycle ({chain})"))
            continue
        if not os.path.isfile(target):
            problems.append(Problem(loc, f"included file not found (got {item!r}, looked for {target})"))
            continue
        try:
            sub = load_file(target, display_name=_display(target))
            sub = _resolve_includes(sub, os.path.dirname(target), stack + [target], files)
        except NetlistError as exc:
            problems.extend(exc.problems)
            continue
        files.append(target)
        merged = sub if merged is None else merge(merged, sub)
    if problems:
        raise NetlistError(problems)
    own = Located({k: v for k, v in data.items() if k != "include"}, dict(doc.value_locs), dict(doc.key_locs))
    return own if merged is None else merge(merged, own)


def _display(path: str) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else path


def merge(base: Located, top: Located) -> Located:
    """``top`` over ``base``: mappings merge key by key, ``projections`` lists concatenate,
    anything else in ``top`` replaces what ``base`` had."""
    n_base_proj = len(base.data.get("projections") or []) if isinstance(base.data, dict) else 0

    def shift(path):
        if len(path) >= 2 and path[0] == "projections" and isinstance(path[1], int):
            return ("projections", path[1] + n_base_proj) + path[2:]
        return path

    data = _deep_merge(base.data, top.data, top_level=True)
    value_locs = dict(base.value_locs)
    key_locs = dict(base.key_locs)
    value_locs.update({shift(p): l for p, l in top.value_locs.items()})
    key_locs.update({shift(p): l for p, l in top.key_locs.items()})
    return Located(data, value_locs, key_locs)


def _deep_merge(a, b, top_level=False):
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            if top_level and k == "projections" and isinstance(out.get(k), list) and isinstance(v, list):
                out[k] = out[k] + v
            elif k in out:
                out[k] = _deep_merge(out[k], v)
            else:
                out[k] = v
        return out
    return b


# ----------------------------------------------------------------------------- overrides
def apply_overrides(doc: Located, overrides, problems: list | None = None) -> Located:
    """Applies ``'a.b.c=value'`` overrides; a projection may be named by its ``name``.

    An override that cannot be applied is a problem: raised at the end, or, with ``problems``
    given, added to it (the others are applied)."""
    collect = problems is not None
    problems = problems if collect else []
    for text in overrides or ():
        loc = Location(f"--set {text}")
        if "=" not in text:
            problems.append(Problem(loc, "override must read path=value (such as populations.exc.size=400)"))
            continue
        key, _, raw_value = text.partition("=")
        try:
            value = yaml.safe_load(raw_value) if raw_value.strip() else ""
        except yaml.YAMLError as exc:
            problems.append(Problem(loc, f"cannot read the value as YAML ({getattr(exc, 'problem', exc)})"))
            continue
        parts = [p for p in key.strip().split(".")]
        if not all(parts):
            problems.append(Problem(loc, f"empty name in path {key!r}"))
            continue
        node = doc.data
        path = []
        ok = True
        for depth, part in enumerate(parts[:-1]):
            step, err = _step(node, part, path)
            if err:
                problems.append(Problem(loc, err))
                ok = False
                break
            if step not in _keys(node):
                node[step] = {}  # a new section: its problems point at this override
                doc.value_locs[tuple(path) + (step,)] = loc
                doc.key_locs[tuple(path) + (step,)] = loc
            path.append(step)
            node = node[step]
        if not ok:
            continue
        last, err = _step(node, parts[-1], path)
        if err:
            problems.append(Problem(loc, err))
            continue
        node[last] = value
        full = tuple(path) + (last,)
        for sub, _ in walk(value, full):
            doc.value_locs[sub] = loc
            doc.key_locs[sub] = loc
    if problems and not collect:
        raise NetlistError(problems)
    return doc


def _keys(node):
    return range(len(node)) if isinstance(node, list) else node.keys()


def _step(node, part: str, path):
    where = ".".join(str(p) for p in path) or "the netlist"
    if isinstance(node, list):
        if part.lstrip("-").isdigit():
            i = int(part)
            if not -len(node) <= i < len(node):
                return None, (f"index {i} out of range in {where} (it has {len(node)} "
                              f"item{'s' if len(node) != 1 else ''})")
            return i % len(node), None
        names = [item.get("name") for item in node if isinstance(item, dict)]
        if part in names:
            return names.index(part), None
        return None, f"no item named {part!r} in {where}" + did_you_mean(part, [n for n in names if n])
    if isinstance(node, dict):
        return part, None
    return None, f"cannot set {part!r} inside {where}, which is {show(node)}"


# ----------------------------------------------------------------------------- building
def build(doc: Located, base_dir: str, files=(), warnings: list | None = None) -> S.Netlist:
    problems = Problems()
    data = doc.data
    if not isinstance(data, dict):
        raise NetlistError(Problem(doc.loc(()), f"a netlist must be a mapping of sections (got {show(data)})"))
    ok = {}
    for key, node in NETLIST.fields.items():
        if key not in data:
            continue
        value = data[key]
        if key == "populations" and isinstance(value, dict):
            # each population and projection field by field, so that one bad field hides no other
            # problem: ok[key] holds the set of fields of wrong shape (None: not a mapping at all)
            ok[key] = {}
            for name, item in value.items():
                if not isinstance(name, str):
                    check(node, {name: item}, (key,), doc, problems, key)  # reports the name
                    continue
                ok[key][name] = check_fields(node.value, item, (key, name), doc, problems, name,
                                             per_entry=("params", "init"))
        elif key == "projections" and isinstance(value, list):
            ok[key] = [check_fields(node.item, item, (key, i), doc, problems) for i, item in enumerate(value)]
        else:
            ok[key] = check(node, value, (key,), doc, problems, key)
    for key in data:
        if key not in NETLIST.fields:
            problems.add(doc.key_loc((key,)), f"unknown key {key!r} in the netlist (expected {one_of(NETLIST.fields)})"
                         + did_you_mean(key, NETLIST.fields))
    for key in NETLIST.required:
        if key not in data:
            problems.add(doc.loc(()), f"missing key {key!r} in the netlist")
    b = _Builder(doc, base_dir, problems, warnings if warnings is not None else [])
    time = b.time(data["time"]) if ok.get("time") else None
    pops = b.populations(data["populations"], ok["populations"], time) if isinstance(ok.get("populations"), dict) else {}
    projs = b.projections(data["projections"], ok["projections"], pops, time) if isinstance(ok.get("projections"), list) else []
    record = b.record(data.get("record"), pops, time) if ok.get("record", True) else S.RecordSpec()
    train = b.train(data.get("train"), pops, projs) if ok.get("train", True) else None
    if time is not None and projs and not problems:
        from .graph import zero_delay_cycle_problems

        for loc, msg in zero_delay_cycle_problems(pops, projs):
            problems.add(loc, msg)
    problems.raise_if_any()
    return S.Netlist(
        name=str(data.get("name") or os.path.splitext(os.path.basename(str(files[0] if files else "netlist")))[0]),
        seed=int(data.get("seed", 0)),
        time=time,
        populations=pops,
        projections=tuple(projs),
        record=record,
        precision=data.get("precision", "double"),
        description=data.get("description", ""),
        train=train,
        train_locs=b.train_locs() if train is not None else None,
        files=tuple(str(f) for f in files),
        loc=doc.loc(()),
    )


class _Builder:
    def __init__(self, doc: Located, base_dir: str, problems: Problems, warnings: list):
        self.doc = doc
        self.base_dir = base_dir
        self.problems = problems
        self.warnings = warnings
        # name -> (model, size) of every population whose model and size are fine, even if
        # something else in it is wrong: projections and records are checked against these
        self.known: dict = {}
        # every population name written (its entry may be wrong): an unknown name is one not here
        pops = doc.data.get("populations") if isinstance(doc.data, dict) else None
        self.pop_names: dict = pops if isinstance(pops, dict) else {}
        self.shape_bad: dict = {}   # population -> its fields of wrong shape (reported already)
        self.chains: dict = {}      # population -> [itself, the population it is like, ...]
        self.resolved: dict = {}    # population -> (fields with like applied, where each came from)

    def loc(self, *path):
        return self.doc.loc(path)

    # ------------------------------------------------------------------ time
    def time(self, raw):
        p = self.problems
        steps = raw.get("steps")
        if "duration" not in raw and steps is None:
            p.add(self.loc("time"), "time needs 'duration' (or 'steps', a number of dt steps)")
            return None
        if "duration" in raw and steps is not None:
            p.add(self.loc("time", "steps"), "time: give 'duration' or 'steps', not both")
            return None
        duration = None
        if steps is None:
            duration = read_quantity(raw["duration"], TIME, "time.duration", self.loc("time", "duration"), p)
            if duration is not None and not (0 < duration < math.inf):
                p.add(self.loc("time", "duration"), f"time.duration must be > 0 and finite (got {raw['duration']})")
                duration = None
        mode = raw.get("mode", S.STEPS if steps is not None else S.EXACT)
        dt = None
        if "dt" in raw:
            dt = read_quantity(raw["dt"], TIME, "time.dt", self.loc("time", "dt"), p)
            if dt is not None and not (0 < dt < math.inf):
                p.add(self.loc("time", "dt"), f"time.dt must be > 0 (got {raw['dt']})")
                dt = None
        elif steps is not None or mode == S.STEPS:
            dt = 1.0   # one step is one (nominal) second: times and delays read as step counts
        elif mode == S.GRID:
            p.add(self.loc("time"), "grid mode needs time.dt (such as dt: 0.1 ms)")
        if steps is not None and dt is not None:
            duration = steps * dt
        if duration is None or (mode in (S.GRID, S.STEPS) and dt is None):
            return None
        if dt is not None and dt > duration:
            given = raw["dt"] if "dt" in raw else "not given: 1 s per step in steps mode"
            p.add(self.loc("time", "dt"), f"time.dt is longer than the duration (got dt {given}, duration "
                                          f"{raw.get('duration', f'{steps} steps')})")
            return None
        if mode == S.STEPS and abs(duration / dt - round(duration / dt)) > 1e-9 * max(1.0, duration / dt):
            p.add(self.loc("time", "duration"), f"time.duration must be a whole number of steps in steps mode "
                                                f"(got duration {_q(duration, TIME)}, dt {_q(dt, TIME)})")
            return None
        return S.TimeSpec(duration, mode, dt, self.loc("time"))

    # ------------------------------------------------------------------ populations
    def populations(self, raw: dict, bad: dict, time) -> dict:
        # each population without its fields of wrong shape (reported already): the rest is checked
        self.shape_bad = {name: b for name, b in bad.items() if b is not None}
        clean = {name: _without(raw[name], b) for name, b in self.shape_bad.items()}
        resolved = {}
        for name in clean:
            merged, ok = self._resolve_like(clean, name, [])
            if ok:
                resolved[name] = merged
        self.resolved = resolved
        out = {}
        for name, (fields, origin) in resolved.items():
            pop = self._population(name, fields, origin, time)
            if pop is not None and not self._reported(name):
                out[name] = pop
        stepped = sorted(n for n, (m, _) in self.known.items() if m.is_stepped)
        other = sorted(n for n, (m, _) in self.known.items() if not m.is_stepped)
        if stepped and other:
            self.problems.add(self.loc("populations", other[0]),
                              f"population {other[0]!r} ({self.known[other[0]][0].name}) cannot be in a network of "
                              f"event-gated units and sequence inputs ({', '.join(stepped)}): they run on the "
                              f"discrete-step engine, spiking models on the event engine")
        total = sum(size for _, size in self.known.values())
        if total > MAX_NEURONS:
            self.problems.add(self.loc("populations"), f"too many neurons in all (expected at most {MAX_NEURONS}, "
                                                       f"the limit of int32 neuron indices, got {total})")
        return out

    def _reported(self, name, field=None) -> bool:
        """Whether a shape problem of population ``name`` (or of one it is ``like``), in ``field``
        if given, is reported already."""
        for n in self.chains.get(name, [name]):
            b = self.shape_bad.get(n, ())
            if (b if field is None else field in b):
                return True
        return False

    def _resolve_like(self, raw, name, chain):
        """The population's fields with ``like:`` applied, and the path each field came from."""
        fields = raw[name]
        origin = {k: ("populations", name) for k in fields}
        self.chains[name] = [name]
        if "like" not in fields:
            return (fields, origin), True
        parent = fields["like"]
        loc = self.loc("populations", name, "like")
        if parent == name or parent in chain:
            top = (chain + [name])[0]
            if parent == top:  # reported at each population of the cycle, from itself round
                self.problems.add(self.loc("populations", top, "like"),
                                  "'like' cycle (" + " -> ".join(chain + [name, parent]) + ")")
            return None, False
        if parent not in raw:
            if parent not in self.pop_names:
                self.problems.add(loc, f"'like' names an unknown population {parent!r}"
                                  + did_you_mean(parent, self.pop_names))
            return None, False  # else the parent is no mapping, which is reported already
        got, ok = self._resolve_like(raw, parent, chain + [name])
        if not ok:
            return None, False
        self.chains[name] = [name] + self.chains[parent]
        pfields, porigin = got
        merged = dict(pfields)
        morigin = dict(porigin)
        merged.pop("doc", None)
        for k, v in fields.items():
            if k in ("params", "init") and isinstance(v, dict) and isinstance(merged.get(k), dict):
                merged[k] = {**merged[k], **v}
                # keep per-key origins: the parent's for inherited keys, ours for the rest
                morigin[k] = {**({kk: porigin[k] for kk in pfields[k]} if isinstance(porigin.get(k), tuple)
                                 else porigin.get(k, {})), **{kk: ("populations", name) for kk in v}}
            else:
                merged[k] = v
                morigin[k] = ("populations", name)
        merged["like"] = parent
        return (merged, morigin), True

    def _origin(self, origin, field, key=None):
        o = origin.get(field, ())
        if isinstance(o, dict):
            o = o.get(key, ())
        return tuple(o) + (field,) + ((key,) if key is not None else ())

    def _population(self, name, f, origin, time):
        p = self.problems
        ploc = self.loc("populations", name)
        if not isinstance(name, str) or not name.replace("_", "a").isalnum() or name[0].isdigit():
            p.add(self.doc.key_loc(("populations", name)),
                  f"population name {name!r} must start with a letter and hold only letters, digits and _")
            return None
        if "model" not in f:
            if not self._reported(name, "model"):
                p.add(ploc, f"population {name!r} needs a 'model'")
            return None
        model_name = f["model"]
        model = registry.get(model_name)
        mloc = self.doc.loc(self._origin(origin, "model"))
        if model is None:
            p.add(mloc, f"unknown model {model_name!r} (expected {one_of(registry.names())})"
                  + did_you_mean(model_name, registry.names()))
            return None
        n_before = len(p)
        size = f.get("size")
        if size is None:
            if not self._reported(name, "size"):
                p.add(ploc, f"population {name!r} needs a 'size'")
                return None
            # the size is wrong and reported: check the rest without it
        elif size > MAX_NEURONS:
            p.add(self.doc.loc(self._origin(origin, "size")),
                  f"population size too large (expected at most {MAX_NEURONS}, got {size})")
            return None
        else:
            self.known[name] = (model, size)
        if time is not None and time.mode not in model.time_modes:
            p.add(mloc, f"model {model_name!r} cannot run in {time.mode} mode (it supports {one_of(model.time_modes)})")
        params = {}
        given = f.get("params") or {}
        # values copied from a population of the same model and size ('like'): that population
        # reports their problems, so they go to a scratch list here (and still fail this one)
        shadowed, scratch = set(), Problems()
        for key in given:
            path = self._origin(origin, "params", key)
            if key not in model.params:
                p.add(self.doc.key_loc(path), f"unknown parameter {key!r} for model {model_name!r}"
                      + (f" (expected {one_of(model.params)})" if model.params else " (it has no parameters)")
                      + did_you_mean(key, model.params))
                continue
            sink = p
            if self._shadowed(name, path, model_name, size):
                shadowed.add(key)
                sink = scratch
            if model.params[key].choices is not None:
                v = self._choice(path, model.params[key], f"{name}.params.{key}", sink)
                if v is not None:
                    params[key] = v
                continue
            v = read_value(self.doc, path, model.params[key].dim, f"{name}.params.{key}", sink, self.base_dir)
            if v is not None and self._check_bounds(v, model.params[key], f"{name}.params.{key}", size, sink):
                params[key] = v
        for key, par in model.params.items():
            if key in given:
                continue
            if par.default is None:
                if self._reported(name, ("params", key)):
                    continue
                p.add(ploc, f"population {name!r}: model {model_name!r} needs parameter {key!r} "
                            f"(a {par.dim.name}{': ' + par.doc if par.doc else ''})")
            else:
                params[key] = default_value(par, ploc)
        self._check_constraints(model, params, name, shadowed)
        self._warn_typical(model, params, name, shadowed)
        init = {}
        for key in f.get("init") or {}:
            path = self._origin(origin, "init", key)
            if key not in model.state:
                p.add(self.doc.key_loc(path), f"unknown state variable {key!r} for model {model_name!r}"
                      + (f" (expected {one_of(model.state)})" if model.state else " (it has no state)")
                      + did_you_mean(key, model.state))
                continue
            sink = scratch if self._shadowed(name, path, model_name, size) else p
            v = read_value(self.doc, path, model.state[key].dim, f"{name}.init.{key}", sink, self.base_dir)
            if v is not None:
                self._check_count(v, size, f"{name}.init.{key}", sink)
                init[key] = v
        spikes = None
        if "spikes" in f:
            if not model.takes_spike_list:
                p.add(self.doc.key_loc(self._origin(origin, "spikes")),
                      f"population {name!r}: model {model_name!r} takes no 'spikes' (use model spike_times)")
            else:
                spikes = self._spikes(self._origin(origin, "spikes"), f["spikes"], size, name)
        elif model.takes_spike_list:
            p.add(ploc, f"population {name!r}: model {model_name!r} needs 'spikes' (times and ids, or a file)")
        sequence = None
        if "sequence" in f:
            if not model.takes_sequence:
                p.add(self.doc.key_loc(self._origin(origin, "sequence")),
                      f"population {name!r}: model {model_name!r} takes no 'sequence' (use model sequence)")
            else:
                sequence = self._sequence(self._origin(origin, "sequence"), f["sequence"], size, name)
        if len(p) > n_before or size is None or scratch:
            return None
        return S.Population(name, int(size), model_name, params, init, spikes, f.get("like"), ploc, sequence)

    def _choice(self, path, par, what, problems):
        """A parameter written as one of its words: a constant holding the word's index."""
        raw = doc_get(self.doc.data, path)
        loc = self.doc.loc(path)
        if not isinstance(raw, str) or raw not in par.choices:
            problems.add(loc, f"{what}: expected {one_of(par.choices)} (got {show(raw)})"
                         + (did_you_mean(raw, par.choices) if isinstance(raw, str) else ""))
            return None
        return S.Const(float(par.choices.index(raw)), par.dim, loc)

    def _sequence(self, path, raw, size, name):
        """The input of a sequence source: dense rows, events, or a file of either."""
        p = self.problems
        loc = self.doc.loc(path)
        forms = [k for k in ("file", "rows", "times") if k in raw]
        if len(forms) != 1:
            p.add(loc, f"{name}.sequence needs exactly one of 'file', 'rows', or 'times' with 'ids' and 'values' "
                       f"(got {', '.join(forms) or 'none'})")
            return None
        form = forms[0]
        extra = {"file": ("key", "unit"), "rows": (), "times": ("ids", "values")}[form]
        for k in raw:
            if k != form and k not in extra:
                p.add(self.doc.key_loc(path + (k,)), f"{name}.sequence: {k!r} does not go with {form!r}")
                return None
        if form == "file":
            fpath = resolve_path(raw["file"], self.base_dir)
            if not os.path.isfile(fpath):
                p.add(self.doc.loc(path + ("file",)), f"{name}.sequence: file not found (got {raw['file']!r}, "
                                                      f"looked for {fpath})")
                return None
            ext = os.path.splitext(fpath)[1].lower()
            if ext not in (".npy", ".npz", ".csv"):
                p.add(self.doc.loc(path + ("file",)), f"{name}.sequence: unsupported file type (expected .npy, "
                                                      f".npz or .csv, got {ext or 'no extension'})")
                return None
            scale = read_unit(raw.get("unit"), TIME, f"{name}.sequence.unit", loc, p)
            if scale is None:
                return None
            return S.SequenceFile(fpath, raw.get("key"), scale, raw.get("unit"), loc)
        if form == "rows":
            rows = raw["rows"]
            for i, row in enumerate(rows):
                if size is not None and len(row) != size:
                    p.add(self.doc.loc(path + ("rows", i)), f"{name}.sequence.rows[{i}]: expected {size} values "
                                                             f"(one per element), got {len(row)}")
                    return None
                bad = [x for x in row if not math.isfinite(x)]
                if bad:
                    p.add(self.doc.loc(path + ("rows", i)), f"{name}.sequence.rows[{i}]: values must be finite "
                                                             f"(got {bad[0]})")
                    return None
            return S.SequenceRows(tuple(tuple(float(x) for x in row) for row in rows), loc)
        if "ids" not in raw or "values" not in raw:
            p.add(loc, f"{name}.sequence: events need 'times', 'ids' and 'values'")
            return None
        n = len(raw["times"])
        if len(raw["ids"]) != n or len(raw["values"]) != n:
            p.add(loc, f"{name}.sequence: times, ids and values differ in length "
                       f"({n}, {len(raw['ids'])} and {len(raw['values'])})")
            return None
        n_before = len(p)
        times = []
        for j, t in enumerate(raw["times"]):
            v = read_quantity(t, TIME, f"{name}.sequence.times[{j}]", self.doc.loc(path + ("times", j)), p)
            if v is not None and not (0 <= v < math.inf):
                p.add(self.doc.loc(path + ("times", j)), f"{name}.sequence.times[{j}] must be >= 0 and finite")
            times.append(v)
        for j, i in enumerate(raw["ids"]):
            if size is not None and i >= size:
                p.add(self.doc.loc(path + ("ids", j)), f"{name}.sequence.ids[{j}] out of range "
                                                      f"(expected < {size}, the population size, got {i})")
        for j, x in enumerate(raw["values"]):
            if not math.isfinite(x):
                p.add(self.doc.loc(path + ("values", j)), f"{name}.sequence.values[{j}] must be finite (got {x})")
        if len(p) > n_before:
            return None
        return S.SequenceEvents(tuple(times), tuple(raw["ids"]), tuple(float(x) for x in raw["values"]), loc)

    def _shadowed(self, name, path, model_name, size) -> bool:
        """Whether the value at ``path`` is copied (by 'like') from another population of the
        same model and size, which checks it already."""
        other = path[1]
        if other == name or other not in self.resolved:
            return False
        fields = self.resolved[other][0]
        return fields.get("model") == model_name and fields.get("size") == size

    def _check_count(self, v, count, what, problems=None) -> bool:
        if isinstance(v, S.Values) and count is not None and len(v.values) != count:
            (problems if problems is not None else self.problems).add(
                v.loc, f"{what}: wrong number of values (expected {count}, one per neuron, got {len(v.values)})")
            return False
        return True

    def _check_bounds(self, v, par, what, count, problems=None) -> bool:
        problems = problems if problems is not None else self.problems
        if not self._check_count(v, count, what, problems):
            return False
        lo, hi = par.bounds_si()
        if isinstance(v, S.Normal) and v.std > 0:
            vmin = -math.inf if v.min is None else v.min
            vmax = math.inf if v.max is None else v.max
            if vmin < lo or vmax > hi:
                bound = "min" if vmin < lo else "max"
                problems.add(v.loc, f"{what}: a normal distribution can draw values outside the parameter's "
                                         f"bounds ({par.bound_problem(lo - 1 if vmin < lo else hi + 1)}): give '{bound}'")
                return False
            return True
        if isinstance(v, S.Beta):  # values strictly inside (low, high)
            lo_b, hi_b = par.bounds_si()
            if v.low < lo_b or v.high > hi_b:
                problems.add(v.loc, f"{what}: a beta distribution on [{_q(v.low, par.dim)}, {_q(v.high, par.dim)}] "
                                    f"can draw values outside the parameter's bounds "
                                    f"({par.bound_problem(lo_b - 1 if v.low < lo_b else hi_b + 1)})")
                return False
            return True
        rng = value_range(v)
        if rng is None:
            return True
        for x in rng:
            why = par.bound_problem(x)
            if why:
                problems.add(v.loc, f"{what} out of range ({why}, got {_q(x, par.dim)})")
                return False
        return True

    def _check_constraints(self, model, params, name, shadowed=()):
        for c in model.constraints:
            if c.lhs in shadowed and c.rhs in shadowed:
                continue  # checked where they are written
            a, b = params.get(c.lhs), params.get(c.rhs)
            if isinstance(a, S.Const) and isinstance(b, S.Const) and not c.holds(a.value, b.value):
                loc = a.loc if a.loc.line else b.loc
                self.problems.add(loc, f"population {name!r}: {c.lhs} must be {c.op} {c.rhs} "
                                       f"(got {c.lhs} = {_q(a.value, a.dim)}, {c.rhs} = {_q(b.value, b.dim)})"
                                  + (f": {c.why}" if c.why else ""))

    def _warn_typical(self, model, params, name, shadowed=()):
        for key, v in params.items():
            typical = model.params[key].typical_si()
            if typical is None or not isinstance(v, S.Const) or key in shadowed:
                continue
            if not typical[0] <= v.value <= typical[1]:
                self.warnings.append(Problem(v.loc, f"warning: {name}.params.{key} = {_q(v.value, v.dim)} is unusual "
                                                    f"(typically {_q(typical[0], v.dim)} to {_q(typical[1], v.dim)}; "
                                                    f"plain numbers are SI)"))

    def _spikes(self, path, raw, size, name):
        p = self.problems
        loc = self.doc.loc(path)
        n_before = len(p)
        if isinstance(raw, list):
            times, ids = [], []
            for i, row in enumerate(raw):
                for j, t in enumerate(row):
                    v = read_quantity(t, TIME, f"{name}.spikes[{i}][{j}]", self.doc.loc(path + (i, j)), p)
                    if v is not None:
                        times.append(v)
                        ids.append(i)
            if size is not None and len(raw) > size:
                p.add(loc, f"{name}.spikes: more spike lists than neurons (expected at most {size}, got {len(raw)})")
            spikes = S.SpikeList(tuple(times), tuple(ids), loc)
        elif "file" in raw:
            if "times" in raw or "ids" in raw:
                p.add(loc, f"{name}.spikes: give either 'file' or 'times' and 'ids', not both")
                return None
            fpath = resolve_path(raw["file"], self.base_dir)
            if not os.path.isfile(fpath):
                p.add(self.doc.loc(path + ("file",)), f"{name}.spikes: file not found (got {raw['file']!r}, looked for {fpath})")
                return None
            if os.path.splitext(fpath)[1].lower() not in (".npz", ".csv"):
                p.add(self.doc.loc(path + ("file",)), f"{name}.spikes: unsupported file type (expected .npz or .csv)")
                return None
            scale = read_unit(raw.get("unit"), TIME, f"{name}.spikes.unit", loc, p)
            if scale is None:
                return None
            return S.SpikeFile(fpath, scale, raw.get("unit"), loc)
        else:
            if "times" not in raw or "ids" not in raw:
                p.add(loc, f"{name}.spikes needs 'times' and 'ids' (or 'file')")
                return None
            if "unit" in raw:
                p.add(self.doc.key_loc(path + ("unit",)), f"{name}.spikes: 'unit' applies to files only; "
                                                         f"write units in the times")
            if len(raw["times"]) != len(raw["ids"]):
                p.add(loc, f"{name}.spikes: times and ids differ in length ({len(raw['times'])} and {len(raw['ids'])})")
                return None
            times = []
            for j, t in enumerate(raw["times"]):
                times.append(read_quantity(t, TIME, f"{name}.spikes.times[{j}]", self.doc.loc(path + ("times", j)), p))
            for j, i in enumerate(raw["ids"]):
                if size is not None and i >= size:
                    p.add(self.doc.loc(path + ("ids", j)), f"{name}.spikes.ids[{j}] out of range "
                                                          f"(expected < {size}, the population size, got {i})")
            spikes = S.SpikeList(tuple(times), tuple(raw["ids"]), loc)
        if len(p) > n_before:
            return None
        bad = [t for t in spikes.times if not (0 <= t < math.inf)]
        if bad:
            p.add(loc, f"{name}.spikes: spike times must be >= 0 and finite (got {_q(bad[0], TIME)})")
            return None
        return spikes

    # ------------------------------------------------------------------ projections
    def projections(self, raw: list, bad: list, pops: dict, time) -> list:
        out = []
        names = {}
        for i, item in enumerate(raw):
            if bad[i] is None or bad[i] & {"from", "to", "connect"}:
                continue  # not enough of it is right to check the rest
            proj = self._projection(i, _without(item, bad[i]), pops, time, bad[i])
            if proj is None:
                continue
            if proj.name in names:
                if "name" in item:
                    self.problems.add(self.loc("projections", i, "name"),
                                      f"duplicate projection name {proj.name!r} (first at {names[proj.name]})")
                    continue
                k = 2
                while f"{proj.name}#{k}" in names:
                    k += 1
                proj = S.Projection(f"{proj.name}#{k}", proj.pre, proj.post, proj.connect, proj.weight,
                                    proj.delay, proj.port, proj.loc)
            names[proj.name] = proj.loc
            out.append(proj)
        return out

    def _names(self, raw, path, what):
        """The population names of a projection end, or None if one is unknown."""
        items = [raw] if isinstance(raw, str) else list(raw)
        ok = True
        for j, n in enumerate(items):
            loc = self.doc.loc(path if isinstance(raw, str) else path + (j,))
            if n not in self.known:
                if n not in self.pop_names:
                    self.problems.add(loc, f"{what} names an unknown population {n!r}"
                                      + did_you_mean(n, self.pop_names))
                ok = False
        if len(set(items)) != len(items):
            twice = next(n for n in items if items.count(n) > 1)
            self.problems.add(self.doc.loc(path), f"{what} lists a population twice (got {twice!r} twice)")
            ok = False
        return tuple(items) if ok else None

    def _projection(self, i, f, pops, time, bad=frozenset()):
        p = self.problems
        base = ("projections", i)
        ploc = self.doc.loc(base)
        n_before = len(p)
        pre = self._names(f["from"], base + ("from",), "'from'")
        post = self._names(f["to"], base + ("to",), "'to'")
        name = f.get("name") or "+".join(_as_list(f["from"])) + "->" + "+".join(_as_list(f["to"]))
        n_pre = sum(self.known[n][1] for n in pre) if pre else None
        n_post = sum(self.known[n][1] for n in post) if post else None
        port, wdim = (self._port(f, base, post, name) if post else (None, None))
        connect = self._connect(base, f["connect"], n_pre, n_post, set(pre or ()) & set(post or ()), pre, post)
        from_file = connect is not None and connect.rule == "file"
        weight = None
        if wdim is not None and "weight" in f:
            weight = read_value(self.doc, base + ("weight",), wdim, f"{name}: weight", p, self.base_dir,
                                allow=("uniform", "normal", "values", "file", "ternary", "column"))
        if "delay" in f:
            delay = read_value(self.doc, base + ("delay",), TIME, f"{name}: delay", p, self.base_dir,
                               allow=("uniform", "normal", "values", "file", "column"))
        elif "delay" in bad:
            delay = None
        else:
            delay = S.Const(0.0, TIME, ploc)
        for what, v in (("weight", weight), ("delay", delay)):
            if isinstance(v, S.Column) and not from_file:
                p.add(v.loc, f"{name}: {what} 'column' needs a connection file (connect: {{file: ...}})")
        if delay is not None:
            self._check_delay(name, delay, time)
        if None in (pre, post, connect, weight, delay) or len(p) > n_before or bad:
            return None
        if not all(n in pops for n in pre + post):
            return None  # a population it connects has problems of its own
        return S.Projection(name, pre, post, connect, weight, delay, port, ploc)

    def _port(self, f, base, post, name):
        """The target port and its weight dimension, or (None, None) after reporting why not."""
        p = self.problems
        target_specs = list({self.known[n][0].name: self.known[n][0] for n in post}.values())
        for n in post:
            m = self.known[n][0]
            if not m.ports:
                p.add(self.doc.loc(base + ("to",)), f"population {n!r} ({m.name}) takes no input, "
                                                   f"so it cannot be the target of a projection")
                return None, None
        port = f.get("port")
        if port is None:
            defaults = {m.default_port for m in target_specs}
            if len(defaults) != 1:
                p.add(self.doc.loc(base), f"projection {name!r}: its targets' models have different default "
                                          f"ports; give 'port'")
                return None, None
            port = defaults.pop()
        for m in target_specs:
            if port not in m.ports:
                p.add(self.doc.loc(base + ("port",)), f"unknown port {port!r} for model {m.name!r} "
                                                      f"(expected {one_of(m.ports)})" + did_you_mean(port, m.ports))
                return None, None
        wdims = {m.ports[port].dim for m in target_specs}
        if len(wdims) != 1:
            p.add(self.doc.loc(base + ("port",)), f"projection {name!r}: port {port!r} takes weights of different "
                                                  f"units in its target models")
            return None, None
        return port, wdims.pop()

    def _check_delay(self, name, delay, time):
        rng = value_range(delay)
        if isinstance(delay, S.Normal) and delay.std > 0 and delay.min is None:
            self.problems.add(delay.loc, f"{name}: a normal delay needs 'min' (>= 0: a delay cannot be negative)")
            return
        if rng is None:
            return
        lo = rng[0]
        if lo < 0:
            self.problems.add(delay.loc, f"{name}: delay must be >= 0 (got {_q(lo, TIME)})")
        elif rng[1] == math.inf and not isinstance(delay, S.Normal):
            self.problems.add(delay.loc, f"{name}: delay must be finite (got {_q(rng[1], TIME)})")
        elif time is not None and time.mode == S.GRID and 0 < lo < time.dt:
            self.problems.add(delay.loc, f"{name}: delay below dt in grid mode (expected 0 or >= dt = {_q(time.dt, TIME)}, "
                                         f"got {_q(lo, TIME)})")

    def _connect(self, base, raw, n_pre, n_post, overlap, pre_names=None, post_names=None):
        p = self.problems
        path = base + ("connect",)
        loc = self.doc.loc(path)
        if isinstance(raw, str):
            raw = {raw: True}
        rules = [k for k in raw if k in CONNECT_RULE_KEYS]
        if len(rules) != 1:
            p.add(loc, f"connect needs exactly one rule (expected {one_of(CONNECT_RULE_KEYS)}, got "
                       + (", ".join(rules) if rules else "none") + ")")
            return None
        rule = rules[0]
        allow_self = raw.get("allow_self", True)
        multapses = raw.get("multapses", False)
        kw = dict(allow_self=allow_self, multapses=multapses, loc=loc)
        rloc = self.doc.loc(path + (rule,))
        if rule in ("all_to_all", "one_to_one"):
            if raw[rule] is not True:
                p.add(rloc, f"{rule}: expected true (got {show(raw[rule])})")
                return None
            if rule == "one_to_one" and None not in (n_pre, n_post) and n_pre != n_post:
                p.add(loc, f"one_to_one needs as many sources as targets (got {n_pre} and {n_post})")
                return None
            return S.Connect(rule, **kw)
        if rule == "probability":
            pr = raw[rule]
            if not 0 <= pr <= 1:
                p.add(rloc, f"connection probability out of range (expected 0 <= p <= 1, got {pr})")
                return None
            return S.Connect(rule, p=float(pr), **kw)
        if rule in ("in_degree", "out_degree"):
            k = raw[rule]
            pool = n_pre if rule == "in_degree" else n_post
            if pool is None:
                return S.Connect(rule, k=int(k), **kw)
            avail = pool - (1 if overlap and not allow_self else 0)
            if not multapses and k > avail:
                p.add(rloc, f"{rule} {k} is more than the {avail} distinct "
                            f"{'sources' if rule == 'in_degree' else 'targets'} available (set multapses: true to repeat)")
                return None
            if multapses and k > 0 and avail <= 0:
                p.add(rloc, f"{rule}: no {'sources' if rule == 'in_degree' else 'targets'} available")
                return None
            return S.Connect(rule, k=int(k), **kw)
        if rule == "pairs":
            pre, post = [], []
            for j, pair in enumerate(raw[rule]):
                if len(pair) != 2:
                    p.add(self.doc.loc(path + (rule, j)), f"pairs[{j}] must be [source, target] (got {len(pair)} numbers)")
                    return None
                if (n_pre is not None and pair[0] >= n_pre) or (n_post is not None and pair[1] >= n_post):
                    p.add(self.doc.loc(path + (rule, j)), f"pairs[{j}] out of range (expected source < {n_pre} "
                                                          f"and target < {n_post}, got {pair})")
                    return None
                if (not allow_self and overlap
                        and self._neuron(pre_names, pair[0]) == self._neuron(post_names, pair[1])):
                    p.add(self.doc.loc(path + (rule, j)), f"pairs[{j}] connects a neuron to itself, and "
                                                          f"allow_self is false (got {pair})")
                    return None
                pre.append(pair[0])
                post.append(pair[1])
            return S.Connect(rule, pre=tuple(pre), post=tuple(post), **kw)
        if rule == "file":
            fpath = resolve_path(raw[rule], self.base_dir)
            if not os.path.isfile(fpath):
                p.add(rloc, f"connection file not found (got {raw[rule]!r}, looked for {fpath})")
                return None
            if os.path.splitext(fpath)[1].lower() not in (".npz", ".csv"):
                p.add(rloc, "unsupported connection file type (expected .npz or .csv)")
                return None
            return S.Connect(rule, path=fpath, **kw)
        raise AssertionError(rule)

    def _neuron(self, names, index):
        """(population, local id) of ``index`` into the concatenated populations ``names``."""
        for n in names:
            size = self.known[n][1]
            if index < size:
                return n, index
            index -= size
        return None, index

    # ------------------------------------------------------------------ record
    def record(self, raw, pops, time):
        if raw is None:
            return S.RecordSpec(tuple(pops), (), self.loc())
        p = self.problems
        spikes = raw.get("spikes", "all")
        if spikes == "all":
            spk = tuple(pops)
        elif spikes == "none":
            spk = ()
        else:
            spk = []
            for j, n in enumerate(spikes):
                if n in pops:
                    spk.append(n)
                elif n not in self.pop_names:
                    p.add(self.loc("record", "spikes", j), f"record.spikes names an unknown population {n!r}"
                          + did_you_mean(n, self.pop_names))
            spk = tuple(spk)
        states = []
        for pop_name, entry in (raw.get("state") or {}).items():
            path = ("record", "state", pop_name)
            if pop_name not in self.known:
                if pop_name not in self.pop_names:
                    p.add(self.doc.key_loc(path), f"record.state names an unknown population {pop_name!r}"
                          + did_you_mean(pop_name, self.pop_names))
                continue
            model, size = self.known[pop_name]
            for j, var in enumerate(entry["vars"]):
                if var not in model.state:
                    p.add(self.doc.loc(path + ("vars", j)), f"unknown state variable {var!r} for model {model.name!r}"
                          + (f" (expected {one_of(model.state)})" if model.state else " (it has no state)")
                          + did_you_mean(var, model.state))
            neurons = entry.get("neurons", "all")
            if neurons == "all":
                neurons = None
            else:
                for j, i in enumerate(neurons):
                    if i >= size:
                        p.add(self.doc.loc(path + ("neurons", j)), f"record.state.{pop_name}.neurons[{j}] out of range "
                                                                    f"(expected < {size}, got {i})")
                neurons = tuple(neurons)
            every = None
            if "every" in entry:
                every = read_quantity(entry["every"], TIME, f"record.state.{pop_name}.every",
                                      self.doc.loc(path + ("every",)), p)
                if every is not None and every <= 0:
                    p.add(self.doc.loc(path + ("every",)), f"record.state.{pop_name}.every must be > 0")
                elif every is not None and time is not None and time.mode == S.GRID:
                    steps = every / time.dt
                    if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
                        p.add(self.doc.loc(path + ("every",)), f"record.state.{pop_name}.every must be a multiple "
                                                               f"of dt in grid mode (got {entry['every']}, dt "
                                                               f"{_q(time.dt, TIME)})")
            if pop_name in pops:
                states.append(S.StateRecord(pop_name, tuple(entry["vars"]), neurons, every, self.doc.loc(path)))
        return S.RecordSpec(spk, tuple(states), self.loc("record"))

    # ------------------------------------------------------------------ train
    def train(self, raw, pops, projs):
        if raw is None:
            return None
        p = self.problems
        for key in ("input", "output"):
            if key in raw and raw[key] not in self.pop_names:
                p.add(self.loc("train", key), f"train.{key} names an unknown population {raw[key]!r}"
                      + did_you_mean(raw[key], self.pop_names))
        for j, n in enumerate(raw.get("hidden", [])):
            if n not in self.pop_names:
                p.add(self.loc("train", "hidden", j), f"train.hidden names an unknown population {n!r}"
                      + did_you_mean(n, self.pop_names))
        names = [pr.name for pr in projs]
        for j, n in enumerate(raw.get("projections", [])):
            if n not in names:
                p.add(self.loc("train", "projections", j), f"train.projections names an unknown projection {n!r}"
                      + did_you_mean(n, names))
        return _freeze(raw)

    def train_locs(self) -> dict:
        """Where each value of the train section was written: path below 'train' -> Location."""
        return {path[1:]: loc for path, loc in self.doc.value_locs.items() if path[:1] == ("train",)}


def _without(fields, bad):
    """A mapping without the fields (``key`` or ``(key, name)``) whose shape is wrong."""
    out = {k: v for k, v in fields.items() if k not in bad}
    for entry in bad:
        if isinstance(entry, tuple) and isinstance(out.get(entry[0]), dict):
            out[entry[0]] = {k: v for k, v in out[entry[0]].items() if k != entry[1]}
    return out


def _as_list(x):
    return [x] if isinstance(x, str) else list(x)


def _freeze(x):
    """Train settings as plain immutable-looking data (dicts kept; lists as tuples)."""
    if isinstance(x, dict):
        return {k: _freeze(v) for k, v in x.items()}
    if isinstance(x, list):
        return tuple(_freeze(v) for v in x)
    return x


def _q(value, dim) -> str:
    from .units import format_quantity

    return str(format_quantity(value, dim))


__all__ = ["load", "loads", "merge", "apply_overrides", "build", "NetlistError", "parse_dim"]
