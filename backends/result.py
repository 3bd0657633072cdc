"""The result of a run, whatever backend produced it, and its file format.

Results file (``.npz``, readable with plain NumPy: ``np.load(path)``):

    spikes/<pop>/times     float64 seconds, sorted by (time, id)
    spikes/<pop>/ids       int32, neuron index within the population
    state/<pop>/times      float64 sample times
    state/<pop>/neurons    int32 neuron indices sampled
    state/<pop>/<var>      float64 array (n_times, n_neurons), SI units
    meta                   JSON text: backend, versions, netlist, mode, dt, duration,
                           simulated (time actually reached), partial (true if interrupted),
                           wall and compile seconds, seed
    counters               JSON text: per population spikes, deliveries, rates, sparsity, ...

Files are written to a temporary name and renamed, so a reader sees a whole file or none.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from netspec.atomic import replacing


@dataclass
class Result:
    backend: str
    spikes: dict = field(default_factory=dict)     # pop -> (times float64, ids int32)
    state: dict = field(default_factory=dict)      # pop -> {"times", "neurons", var...}
    counters: dict = field(default_factory=dict)   # pop -> {name: number}; "total" for the whole run
    meta: dict = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        return bool(self.meta.get("partial", False))

    def spike_count(self, pop: str | None = None) -> int:
        if pop is not None:
            return int(self.spikes[pop][0].size)
        return int(sum(t.size for t, _ in self.spikes.values()))

    def rate(self, pop: str, size: int) -> float:
        """Mean rate per neuron (Hz) over the simulated time."""
        t = self.meta.get("simulated", self.meta.get("duration"))
        return self.spike_count(pop) / (size * t) if t else 0.0

    def trains(self, pop: str, size: int) -> list:
        """Spike times per neuron of a population."""
        times, ids = self.spikes[pop]
        order = np.argsort(ids, kind="stable")
        bounds = np.searchsorted(ids[order], np.arange(size + 1))
        return [times[order[bounds[i]:bounds[i + 1]]] for i in range(size)]

    # ------------------------------------------------------------------ file
    def save(self, path: str) -> None:
        arrays = {}
        for pop, (times, ids) in self.spikes.items():
            arrays[f"spikes/{pop}/times"] = np.asarray(times, dtype=np.float64)
            arrays[f"spikes/{pop}/ids"] = np.asarray(ids, dtype=np.int32)
        for pop, rec in self.state.items():
            for key, value in rec.items():
                arrays[f"state/{pop}/{key}"] = np.asarray(value)
        arrays["meta"] = np.asarray(json.dumps(self.meta, sort_keys=True, default=_jsonable))
        arrays["counters"] = np.asarray(json.dumps(self.counters, sort_keys=True, default=_jsonable))
        with replacing(path, "wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str) -> "Result":
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            counters = json.loads(str(z["counters"]))
            spikes, state = {}, {}
            for key in z.files:
                parts = key.split("/")
                if parts[0] == "spikes" and parts[2] == "times":
                    spikes[parts[1]] = (z[key], z[f"spikes/{parts[1]}/ids"])
                elif parts[0] == "state":
                    state.setdefault(parts[1], {})[parts[2]] = z[key]
        return cls(meta.get("backend", "?"), spikes, state, counters, meta)


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")
