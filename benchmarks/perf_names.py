#!/usr/bin/env python
"""Profile aid: names for the machine code Numba compiles, so that `perf` can attribute samples.

Numba's code is JIT-compiled (or loaded from its cache) into anonymous memory, which `perf report`
shows as bare addresses. After one simulation of NETLIST (the engine is then compiled or loaded),
this writes /tmp/perf-PID.map, the file `perf` reads for such code, with the entry points of every
compiled engine and simcore function and of Numba's runtime helpers (NRT_incref and NRT_decref:
reference counting), then runs the simulation RUNS more times:

    perf record -F 2000 -o perf.data .venv/bin/python benchmarks/perf_names.py yaml_models/cuba.yaml 30
    perf report -i perf.data --no-children --sort dso,sym

A function's range reaches to the next named address, so code inlined into a function counts as
that function's. A process that compiles the engine (empty caches: EVSIM_CACHE_DIR and
NUMBA_CACHE_DIR pointing at new folders) also names the callees that LLVM kept as functions
inside each library (run_stage, update_batch, fire_until...); loaded from the cache, a library
names only its entry point, and code linked into it falls under that name.

With a third argument FUNCTION (e.g. run_buckets, into which most of the engine is inlined) it
also writes the machine code of every copy of that function to /tmp/perf-PID-FUNCTION-ADDR.bin
(a caller's library holds its own copy of a callee: the samples tell which one runs), for
samples per instruction:

    objdump -D -b binary -mi386:x86-64 --adjust-vma=0xADDR /tmp/perf-PID-FUNCTION-ADDR.bin > code.s
    perf script -i perf.data -F ip,sym | awk '$2 == "FUNCTION" {print $1}' | sort | uniq -c | sort -rn

(samples pile up on the instruction after the one that stalls; docs/engine.md "Latency, not work").

``--threads N`` runs the simulations on N partitions (the engine for threads; its bucket loop is
``part_loop``). The partitions other than the first run on threads started for each run, so
`perf script -F tid,ip,sym` tells the calling thread (the process id) from the others.
"""
from __future__ import annotations

import os
import re
import sys

import backends
import netspec


def named_addresses() -> list[tuple[int, str]]:
    """(address, name) of Numba's runtime helpers and of every compiled engine and simcore
    function's entry point, sorted."""
    from numba.core.registry import CPUDispatcher
    from numba.core.runtime import nrt

    found = []
    runtime = nrt.rtsys.library
    for fn in runtime._final_module.functions:
        if not fn.is_declaration:
            found.append((runtime.get_pointer_to_function(fn.name), fn.name))
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith(("evsim_engine", "simcore")):
            continue
        for attr, obj in list(vars(module).items()):
            if not isinstance(obj, CPUDispatcher):
                continue
            for cres in obj.overloads.values():
                found.append((cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name), attr))
                # a library compiled in this process (not loaded from the cache) also names the
                # callees linked into it that LLVM kept as functions (run_stage, update_batch...)
                module = getattr(cres.library, "_final_module", None)
                for fn in module.functions if module is not None else ():
                    if not fn.is_declaration and fn.name.startswith("_ZN"):
                        found.append((cres.library.get_pointer_to_function(fn.name), _short(fn.name)))
    return sorted({(a, n) for a, n in found if a})


def _short(mangled: str) -> str:
    """The last component of a Numba-mangled name (``_ZN<len><part>...``): the function's own name."""
    parts, pos = [], 3
    while (m := re.match(r"\d+", mangled[pos:])):
        n = int(m.group())
        parts.append(mangled[pos + m.end():pos + m.end() + n])
        pos += m.end() + n
    return parts[-1] if parts else mangled


def main(argv: list[str]) -> int:
    threads = 1
    if "--threads" in argv:
        i = argv.index("--threads")
        threads = int(argv[i + 1]) if i + 1 < len(argv) and argv[i + 1].isdigit() else 0
        argv = argv[:i] + argv[i + 2:]
    if len(argv) not in (2, 3) or threads < 1:
        print(__doc__.strip().splitlines()[0], "\nusage: perf_names.py NETLIST RUNS [FUNCTION] [--threads N]",
              file=sys.stderr)
        return 2
    net = netspec.load(argv[0])
    backends.run(net, threads=threads)
    names = named_addresses()
    path = f"/tmp/perf-{os.getpid()}.map"
    with open(path, "w") as fh:
        for (addr, name), (nxt, _) in zip(names, names[1:] + [(names[-1][0] + 4096, "")]):
            fh.write(f"{addr:x} {nxt - addr:x} {name}\n")
    print(f"{len(names)} names in {path}", file=sys.stderr)
    if len(argv) == 3:
        import ctypes

        ranges = [(addr, nxt - addr) for (addr, name), (nxt, _) in zip(names, names[1:]) if name == argv[2]]
        if not ranges:
            print(f"no compiled function named {argv[2]!r}", file=sys.stderr)
            return 2
        with open("/proc/self/maps") as fh:
            maps = [tuple(int(x, 16) for x in line.split()[0].split("-")) for line in fh]
        for addr, size in ranges:      # every copy: a caller's library may hold the one that runs
            # the next name may lie in another mapping: stop at this one's end
            size = min([size] + [hi - addr for lo, hi in maps if lo <= addr < hi])
            code = f"/tmp/perf-{os.getpid()}-{argv[2]}-{addr:x}.bin"
            with open(code, "wb") as fh:
                fh.write(ctypes.string_at(addr, size))
            print(f"{argv[2]}: {size} bytes at {addr:#x} in {code}", file=sys.stderr)
    for _ in range(int(argv[1])):
        backends.run(net, threads=threads)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
