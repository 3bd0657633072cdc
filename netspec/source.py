"""Reading YAML with the source location of every key and value.

The loader builds plain Python data (dict, list, str, int, float, bool, None) and, beside it,
a table from each node's path (a tuple of keys and list indices) to where it was written.
Only YAML's safe core types are accepted: a netlist never constructs Python objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from .errors import Location, NetlistError, Problem

#: A path into a document: mapping keys (str) and list indices (int).
Path = tuple

MAX_NODES = 2_000_000  # guards against alias bombs ("billion laughs")

_SCALAR_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}
_SAFE_TAGS = _SCALAR_TAGS | {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
#: the tags each kind of node may carry (``!!str [1]`` or ``!!seq {a: 1}`` is refused)
_KIND_TAGS = {yaml.ScalarNode: _SCALAR_TAGS, yaml.MappingNode: {"tag:yaml.org,2002:map"},
              yaml.SequenceNode: {"tag:yaml.org,2002:seq"}}


@dataclass
class Located:
    """Data from one or more YAML sources and the location of each of its nodes."""

    data: object
    value_locs: dict = field(default_factory=dict)   # path -> Location of the value
    key_locs: dict = field(default_factory=dict)     # path -> Location of the mapping key

    def loc(self, path: Path, default: Location | None = None) -> Location:
        """Where the value at ``path`` was written (the nearest written ancestor if not)."""
        path = tuple(path)
        while True:
            if path in self.value_locs:
                return self.value_locs[path]
            if not path:
                return default or Location("<unknown>")
            path = path[:-1]

    def key_loc(self, path: Path) -> Location:
        """Where the key of the entry at ``path`` was written."""
        return self.key_locs.get(tuple(path)) or self.loc(path)


def _mark(filename: str, mark) -> Location:
    return Location(filename, mark.line + 1, mark.column + 1)


class _Loader(yaml.SafeLoader):
    pass


def parse(text: str, filename: str) -> Located:
    """Parses YAML text into a :class:`Located` document; raises NetlistError on bad YAML."""
    try:
        loader = _Loader(text)  # the reader refuses non-printable characters here already
    except yaml.reader.ReaderError as exc:
        raise NetlistError(Problem(_position(filename, text, exc.position), f"YAML syntax error: {_reader_what(exc)}")) from None
    try:
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        raise NetlistError(Problem(_position(filename, text, exc.position), f"YAML syntax error: {_reader_what(exc)}")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _mark(filename, mark) if mark else Location(filename)
        what = exc.problem or exc.context or "invalid YAML"
        raise NetlistError(Problem(loc, f"YAML syntax error: {what}")) from None
    except yaml.YAMLError as exc:
        raise NetlistError(Problem(Location(filename), f"YAML syntax error: {exc}")) from None
    finally:
        loader.dispose()
    doc = Located(None)
    if node is None:
        doc.data = {}
        doc.value_locs[()] = Location(filename, 1, 1)
        return doc
    problems: list[Problem] = []
    counter = [0]
    doc.data = _convert(node, (), filename, doc, problems, counter, loader)
    if problems:
        raise NetlistError(problems)
    return doc


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _MergeError(ValueError):
    def __init__(self, message, mark):
        super().__init__(message)
        self.mark = mark


def _merge_pairs(node):
    """A mapping node's pairs as (merged, own), its ``<<`` merge keys resolved by the YAML merge
    key spec: the mapping's own keys win over merged ones, and in ``<<: [a, b]`` a wins over b;
    ``merged`` holds each key once. (Done here rather than by PyYAML's flatten_mapping, whose
    order of precedence changed between PyYAML 6.0.3 and 6.0.4.) Anchored nodes are not modified."""
    merged, own, seen = [], [], set()
    for key_node, value_node in node.value:
        if key_node.tag != _MERGE_TAG:
            own.append((key_node, value_node))
            continue
        if isinstance(value_node, yaml.MappingNode):
            sources = [value_node]
        elif isinstance(value_node, yaml.SequenceNode):
            sources = value_node.value
        else:
            raise _MergeError(f"expected a mapping or list of mappings for merging, but found {value_node.id}",
                              value_node.start_mark)
        for sub in sources:
            if not isinstance(sub, yaml.MappingNode):
                raise _MergeError(f"expected a mapping for merging, but found {sub.id}", sub.start_mark)
            sub_merged, sub_own = _merge_pairs(sub)
            for pair in sub_own + sub_merged:   # within sub, its own keys win too
                ident = (pair[0].tag, pair[0].value) if isinstance(pair[0], yaml.ScalarNode) else id(pair[0])
                if ident not in seen:
                    seen.add(ident)
                    merged.append(pair)
    return merged, own


def _position(filename: str, text: str, index: int) -> Location:
    """The line and column of character ``index`` of ``text``."""
    before = text[:index]
    line = before.count("\n") + 1
    return Location(filename, line, index - (before.rfind("\n") + 1) + 1)


def _reader_what(exc) -> str:
    if isinstance(exc.character, int):
        char = f"#x{exc.character:04x}"
    else:
        char = repr(exc.character)
    return f"{exc.reason} (got character {char})"


def _convert(node, path, filename, doc, problems, counter, loader):
    counter[0] += 1
    if counter[0] > MAX_NODES:
        loc = _mark(filename, node.start_mark)
        problems.append(Problem(loc, f"document too large (more than {MAX_NODES} nodes, expanded aliases included)"))
        raise NetlistError(problems)
    loc = _mark(filename, node.start_mark)
    doc.value_locs[path] = loc
    if node.tag not in _KIND_TAGS[type(node)]:
        if node.tag in _SAFE_TAGS:
            kind = {yaml.ScalarNode: "a single value", yaml.MappingNode: "a mapping",
                    yaml.SequenceNode: "a list"}[type(node)]
            problems.append(Problem(loc, f"YAML tag {node.tag!r} does not fit {kind}"))
        else:
            problems.append(Problem(loc, f"unsupported YAML tag (expected plain YAML data, got tag {node.tag!r})"))
        return None
    if isinstance(node, yaml.MappingNode):
        try:
            merged, own = _merge_pairs(node)
        except _MergeError as exc:
            problems.append(Problem(_mark(filename, exc.mark), f"YAML merge key error: {exc}"))
            return None
        pairs = merged + own
        n_merged = len(merged)
        out = {}
        merged_keys = set()  # keys that came from a << merge (each once): the mapping's own key wins
        for index, (key_node, value_node) in enumerate(pairs):
            key_loc = _mark(filename, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(key_loc, "mapping key must be a plain name (got a mapping or list)"))
                continue
            if key_node.tag not in _KIND_TAGS[yaml.ScalarNode]:
                problems.append(Problem(key_loc, f"unsupported YAML tag (expected plain YAML data, got tag "
                                                 f"{key_node.tag!r})"))
                continue
            key = _scalar(key_node, key_loc, problems, loader)
            if key is _BAD:
                continue
            if isinstance(key, bool) or key is None:
                key = key_node.value  # `yes:`, `on:`, `null:` are names here, not booleans
            if not isinstance(key, (str, int, float)):
                problems.append(Problem(key_loc, f"mapping key must be a plain name (got {key_node.value!r})"))
                continue
            if key in out and key not in merged_keys:
                first = doc.key_locs.get(path + (key,))
                problems.append(Problem(key_loc, f"duplicate key {key!r} (first given at {first})"))
                continue
            if index < n_merged:
                merged_keys.add(key)
            else:
                merged_keys.discard(key)
            doc.key_locs[path + (key,)] = key_loc
            out[key] = _convert(value_node, path + (key,), filename, doc, problems, counter, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (i,), filename, doc, problems, counter, loader)
                for i, item in enumerate(node.value)]
    value = _scalar(node, loc, problems, loader)
    if value is _BAD:
        return None
    if isinstance(value, float) and value != value:
        problems.append(Problem(loc, "not a number (got .nan)"))
    return value


_BAD = object()


def _scalar(node, loc, problems, loader):
    """The value of a scalar node, or _BAD after reporting why not (``!!int abc``)."""
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, KeyError, TypeError):
        kind = node.tag.rsplit(":", 1)[-1]
        problems.append(Problem(loc, f"cannot read {node.value!r} as YAML {kind} (expected a value its tag "
                                     f"{node.tag!r} allows)"))
        return _BAD


def load_file(path: str, display_name: str | None = None) -> Located:
    """Reads and parses a YAML file; a missing or unreadable file is a NetlistError."""
    name = display_name or str(path)
    try:
        with open(path, "r", encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise NetlistError(Problem(Location(name), "file not found")) from None
    except IsADirectoryError:
        raise NetlistError(Problem(Location(name), "is a directory, not a netlist file")) from None
    except UnicodeDecodeError as exc:
        raise NetlistError(Problem(Location(name), f"not UTF-8 text ({exc.reason} at byte {exc.start})")) from None
    except OSError as exc:
        raise NetlistError(Problem(Location(name), f"cannot read file ({exc.strerror})")) from None
    return parse(text, name)


def walk(data, path=()):
    """Yields (path, value) for every node, depth first, the root included."""
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from walk(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from walk(v, path + (i,))
