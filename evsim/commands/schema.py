"""evsim schema: the JSON Schema of the netlist format (for editors)."""
from __future__ import annotations

import sys

from netspec.atomic import write_text
from netspec.schema_file import current_text


def add_parser(sub):
    p = sub.add_parser("schema", help="print the netlist JSON Schema (with the registered models)")
    p.add_argument("-o", "--output", metavar="FILE", help="write it to FILE instead")
    p.set_defaults(func=run)


def run(args) -> int:
    text = current_text()
    if args.output:
        write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
