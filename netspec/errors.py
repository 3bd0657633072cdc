"""Netlist problems with their source locations.

Every problem a user can cause reads ``file:line:col: what is wrong (expected X, got Y)``.
Problems are collected while a netlist is checked and raised together as one
:class:`NetlistError`, so a user sees every mistake in a file at once.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A position in a source file; line and column count from 1."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


UNKNOWN = Location("<unknown>")


@dataclass(frozen=True)
class Problem:
    loc: Location
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}"


class NetlistError(ValueError):
    """One or more problems in a netlist; ``str()`` gives one problem per line."""

    def __init__(self, problems):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems = sorted(set(problems), key=lambda p: (p.loc.file, p.loc.line, p.loc.col, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects problems during a check; ``raise_if_any`` raises them all at once."""

    def __init__(self):
        self.items: list[Problem] = []

    def add(self, loc: Location, message: str) -> None:
        self.items.append(Problem(loc, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise NetlistError(self.items)


def show(value) -> str:
    """A value as a problem message quotes it: short, and strings in quotes."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, dict):
        text = "a mapping {" + ", ".join(str(k) for k in list(value)[:4]) + (", ..." if len(value) > 4 else "") + "}"
    elif isinstance(value, list):
        text = f"a list of {len(value)}"
    elif value is None:
        text = "nothing"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def did_you_mean(word: str, choices) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def one_of(choices) -> str:
    choices = [repr(str(c)) for c in choices]
    if len(choices) <= 1:
        return "".join(choices)
    return "one of " + ", ".join(choices)
