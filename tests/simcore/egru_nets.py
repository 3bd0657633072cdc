"""Random event-gated (EGRU) netlists for the tests: sequence sources feeding chains of EGRU
populations, with feed-forward zero-delay and one-step recurrent projections on random ports,
both reset forms, and sparse inputs with long silent stretches (so silent units are caught up in
closed form and cross threshold on their own, at a predicted step)."""
from __future__ import annotations

import numpy as np

import netspec


def _f(x) -> str:
    return repr(float(x))


def random_netlist_text(seed: int, n_steps: int | None = None) -> str:
    rng = np.random.default_rng(seed)
    T = int(n_steps or rng.integers(40, 160))
    n_src = int(rng.integers(1, 3))
    n_egru = int(rng.integers(1, 4))
    lines = [f"name: random_egru_{seed}", f"seed: {seed}", f"time: {{steps: {T}}}", "populations:"]
    srcs, egrus = [], []
    for k in range(n_src):
        name, size = f"x{k}", int(rng.integers(1, 6))
        srcs.append((name, size))
        # a few bursts of input separated by long silent stretches
        times, ids, vals = [], [], []
        for _ in range(int(rng.integers(1, 5))):
            start = int(rng.integers(0, T))
            for t in range(start, min(T, start + int(rng.integers(1, 6)))):
                for i in range(size):
                    if rng.random() < 0.6:
                        times.append(t)
                        ids.append(i)
                        vals.append(round(float(rng.normal(0, 1.5)), 6))
        if rng.random() < 0.5 and times:
            rows = np.zeros((T, size))
            rows[times, ids] = vals
            seq = "{rows: [" + ", ".join("[" + ", ".join(_f(v) for v in r) + "]" for r in rows) + "]}"
        else:
            pairs = sorted(set(zip(times, ids)))
            value = dict(zip(zip(times, ids), vals))
            seq = ("{times: [" + ", ".join(f"{t} s" for t, _ in pairs) + "], ids: [" +
                   ", ".join(str(i) for _, i in pairs) + "], values: [" +
                   ", ".join(_f(value[p]) for p in pairs) + "]}")
        lines.append(f"  {name}: {{size: {size}, model: sequence, sequence: {seq}}}")
    for k in range(n_egru):
        name, size = f"h{k}", int(rng.integers(1, 13))
        egrus.append((name, size))
        reset = ["event", "threshold"][int(rng.integers(0, 2))]
        theta = "{beta: {a: 1.2857, b: 3, low: 0.05, high: 1}}" if rng.random() < 0.5 else \
            f"{{uniform: [0.05, {_f(rng.uniform(0.2, 0.8))}]}}"
        init_y = "0" if rng.random() < 0.6 else "{uniform: [0, 0.6]}"
        lines.append(f"  {name}: {{size: {size}, model: egru, params: {{b_u: {{uniform: [-3, 1]}}, "
                     f"b_r: {{normal: {{mean: 0, std: 1}}}}, b_z: {{uniform: [-1, 2]}}, theta: {theta}, "
                     f"reset: {reset}}}, init: {{c: {{uniform: [-0.5, 0.8]}}, y: {init_y}}}}}")
    lines.append("projections:")
    ports = ["u", "r", "z", "gates"]
    j = 0

    def proj(pre, post, delay, p, std):
        nonlocal j
        port = ports[int(rng.integers(0, 4))]
        conn = "all_to_all" if p >= 1 else f"{{probability: {_f(p)}}}"
        lines.append(f"  - {{name: p{j}, from: {pre}, to: {post}, connect: {conn}, port: {port}, "
                     f"weight: {{normal: {{mean: {_f(rng.normal(0, 0.2))}, std: {_f(std)}}}}}, delay: {delay} s}}")
        j += 1

    for k, (name, _) in enumerate(egrus):
        # feed-forward (zero delay) from every source and earlier population, sometimes
        for pre, _ in srcs + egrus[:k]:
            if rng.random() < 0.8 or (pre, k) == (srcs[0][0], 0):
                proj(pre, name, 0, rng.choice([1.0, 0.5]), rng.uniform(0.3, 1.5))
        # one-step recurrence: the population itself (often), later populations back (sometimes)
        if rng.random() < 0.8:
            proj(name, name, 1, rng.choice([1.0, 0.4]), rng.uniform(0.2, 0.8))
        for pre, _ in egrus[k + 1:]:
            if rng.random() < 0.4:
                proj(pre, name, 1, 0.5, rng.uniform(0.2, 0.8))
    lines.append("record:")
    lines.append("  state:")
    for n, _ in egrus:
        lines.append(f"    {n}: {{vars: [c, y]}}")
    return "\n".join(lines) + "\n"


def random_netlist(seed: int, n_steps: int | None = None):
    return netspec.loads(random_netlist_text(seed, n_steps))
