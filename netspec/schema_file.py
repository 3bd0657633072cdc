"""The JSON Schema shipped beside the package (netlist.schema.json), and how to refresh it."""
from __future__ import annotations

import os

from . import registry
from .schema import json_schema_text

PATH = os.path.join(os.path.dirname(__file__), "netlist.schema.json")


def current_text() -> str:
    """The schema as the loader and the registered models define it now."""
    return json_schema_text(registry.all_models())


def shipped_text() -> str:
    with open(PATH, encoding="utf-8") as fh:
        return fh.read()
