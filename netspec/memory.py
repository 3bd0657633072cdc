"""Estimating the memory a netlist needs before anything is allocated.

The estimate counts the expanded synapse arrays (int32 source and target, weight and delay
unless constant), the engine's compiled copy (CSR by source: int32 target, weight, delay) and
the transient arrays of expansion, plus per-neuron state. It is compared with the memory
available now (``/proc/meminfo``) or with ``EVSIM_MEMORY_LIMIT`` (such as ``8G``).
"""
from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass

import numpy as np

from . import spec as S
from .errors import NetlistError, Problem

#: Transient bytes per synapse while drawing connectivity (int64 positions and index pairs).
TRANSIENT_PER_SYNAPSE = 24
#: Bytes per neuron for parameters, state and queue bookkeeping in the engine (generous).
PER_NEURON = 256


@dataclass
class Estimate:
    synapses: dict          # projection name -> expected count
    bytes_total: int
    largest_projection: str | None
    largest_population: str | None

    @property
    def n_synapses(self) -> int:
        return int(sum(self.synapses.values()))


def expected_synapses(proj: S.Projection, pops: dict) -> float:
    n_pre = sum(pops[n].size for n in proj.pre)
    n_post = sum(pops[n].size for n in proj.post)
    c = proj.connect
    overlap = sum(pops[n].size for n in set(proj.pre) & set(proj.post))
    if c.rule == "all_to_all":
        return n_pre * n_post - (0 if c.allow_self else overlap)
    if c.rule == "one_to_one":
        return n_pre
    if c.rule == "probability":
        return c.p * n_pre * n_post
    if c.rule == "in_degree":
        return c.k * n_post
    if c.rule == "out_degree":
        return c.k * n_pre
    if c.rule == "pairs":
        return len(c.pre)
    if c.rule == "file":
        return _file_rows(c.path)
    raise AssertionError(c.rule)


def _file_rows(path: str) -> float:
    try:
        if path.lower().endswith(".npz"):
            with zipfile.ZipFile(path) as z:
                with z.open("pre.npy") as fh:
                    # the array header only (public numpy API), not the data
                    version = np.lib.format.read_magic(fh)
                    read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                            else np.lib.format.read_array_header_2_0)
                    shape = read(fh)[0]
                    return float(shape[0]) if shape else 0.0
        return os.path.getsize(path) / 8.0  # a CSV row holds at least "a,b\n"
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return 0.0


def estimate(netlist: S.Netlist) -> Estimate:
    value_bytes = 4 if netlist.precision == "single" else 8
    counts = {p.name: expected_synapses(p, netlist.populations) for p in netlist.projections}
    total = PER_NEURON * netlist.n_neurons
    for p in netlist.projections:
        n = counts[p.name]
        per = 8 + sum(0 if isinstance(v, S.Const) else value_bytes for v in (p.weight, p.delay))
        engine = 4 + 2 * value_bytes  # target, weight, delay (compiled)
        total += n * (per + engine + TRANSIENT_PER_SYNAPSE)
    largest_proj = max(counts, key=counts.get) if counts else None
    largest_pop = max(netlist.populations.values(), key=lambda p: p.size).name if netlist.populations else None
    return Estimate(counts, int(total), largest_proj, largest_pop)


def available_bytes() -> int:
    """The memory limit: EVSIM_MEMORY_LIMIT if set, else what the system has available now."""
    env = os.environ.get("EVSIM_MEMORY_LIMIT")
    if env:
        return parse_bytes(env)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def parse_bytes(text: str) -> int:
    m = re.fullmatch(r"\s*([\d.]+)\s*([kKmMgGtT]?)i?[bB]?\s*", text)
    if not m:
        raise ValueError(f"cannot read {text!r} as a size such as 8G")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} PB"


def check_fits(netlist: S.Netlist, limit: int | None = None) -> Estimate:
    """Raises NetlistError if the netlist would need more memory than is available."""
    est = estimate(netlist)
    limit = available_bytes() if limit is None else limit
    if est.bytes_total > limit:
        proj = est.largest_projection
        pop = netlist.populations.get(est.largest_population)
        where = []
        if proj is not None:
            where.append(f"largest projection {proj!r} with {est.synapses[proj]:.3g} synapses")
        if pop is not None:
            where.append(f"largest population {pop.name!r} with {pop.size} neurons")
        loc = next((p.loc for p in netlist.projections if p.name == proj), None) or (pop.loc if pop else netlist.loc)
        raise NetlistError(Problem(loc, f"network too large: it needs about {human(est.bytes_total)} "
                                        f"({est.n_synapses:.3g} synapses; " + ", ".join(where)
                                   + f") but {human(limit)} is available (EVSIM_MEMORY_LIMIT sets the limit)"))
    return est
