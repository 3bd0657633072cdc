"""Magnitude pruning of an event-gated netlist's projections (``evsim prune``).

Each chosen projection is pruned gate by gate: of the weights of one gate (u, r or z) the
``round(density x n_pre x n_post)`` largest in magnitude are kept (all of them when the
projection stores fewer), ties going to the earlier synapse of the expansion. The density is
relative to the dense matrix, so a projection connected with probability 0.5 pruned to 0.1 keeps
a fifth of its synapses. The result is a new netlist: every pruned projection is written per gate
(port u, r, z; names ``<projection>``, ``<projection>_r``, ``<projection>_z`` for a ``gates``
projection, as ``evsim train`` exports them) with ``connect: {file: ...}`` naming a side ``.npz``
(arrays pre, post, weight, and delay when it varies, in seconds), written atomically. Everything
else is kept as written, so what was drawn from the seed (thresholds, other projections) is
drawn again identically. The gated engine stores only existing synapses, so a pruned projection
costs its surviving synapses per event, and the counters' ``parameter_reduction`` shows it.
"""
from __future__ import annotations

import os

import numpy as np

import netspec
from netspec import NetlistError, Problem
from netspec.errors import did_you_mean

from netspec.errors import Problems

from .network import GATE_NAMES, PORT_GATES, R, U, Z, build, drawn_gate_weights, local_index


def keep_largest(w: np.ndarray, n_keep: int) -> np.ndarray:
    """Indices (sorted) of the ``n_keep`` largest |w|, ties to the earlier index."""
    n_keep = max(0, min(int(n_keep), w.size))
    order = np.argsort(-np.abs(w), kind="stable")
    return np.sort(order[:n_keep])


def gate_weights(arrays, proj_name: str) -> dict:
    """{gate: (pre, post, weight, delay_steps)} of one projection, in the expansion's synapse
    order: the weights simcore/egru/network.build gives the engine (the netlist's weights on the
    first gate, the r and z weights of a ``gates`` projection drawn on streams of their own)."""
    net = arrays.netlist
    proj = next(p for p in arrays.projections if p.name == proj_name)
    spec = next(p for p in net.projections if p.name == proj_name)
    dt = net.time.dt or 1.0
    d = np.rint(np.broadcast_to(np.asarray(proj.delay, dtype=np.float64), (proj.size,)) / dt).astype(np.int64)
    problems = Problems()
    gates = PORT_GATES[proj.port]
    out = {}
    for g in gates:
        out[g] = (proj.pre.astype(np.int64), proj.post.astype(np.int64),
                  drawn_gate_weights(proj, spec, g, net.seed, problems), d)
    problems.raise_if_any()
    return out


def prune(path: str, density: float, out_path: str, projections=None, overrides=()) -> dict:
    """Writes the pruned netlist ``out_path`` (and its side .npz files); returns per projection
    and gate (synapses before, after, dense pairs)."""
    import yaml

    from netspec.atomic import replacing, write_text

    if not 0 < density <= 1:
        raise ValueError(f"--density must be in (0, 1] (got {density:g})")
    net = netspec.load(path, overrides=list(overrides))
    arrays = netspec.expand(net)
    gn = build(arrays)
    names = [p.name for p in net.projections]
    chosen = list(names) if not projections else list(projections)
    bad = [n for n in chosen if n not in names]
    if bad:
        raise NetlistError([Problem(net.projections[0].loc if net.projections else None,
                                    f"prune: no projection {bad[0]!r} (projections: {', '.join(names)})"
                                    + did_you_mean(bad[0], names))])
    folder = os.path.dirname(os.path.abspath(out_path))
    base = os.path.splitext(os.path.basename(out_path))[0]
    data = netspec.to_data(net, folder)
    by_name = {p.name: p for p in arrays.projections}
    taken_names = set(names)
    report, new_projs = {}, []
    for proj in data.get("projections", []):
        nm = proj["name"]
        if nm not in chosen:
            new_projs.append(proj)
            continue
        p = by_name[nm]
        n_pre = sum(arrays.populations[x].size for x in p.pre_pops)
        n_post = sum(arrays.populations[x].size for x in p.post_pops)
        per_gate = gate_weights(arrays, nm)
        gates = PORT_GATES[p.port]
        for g in gates:
            pre, post, w, d = per_gate[g]
            keep = keep_largest(w, round(density * n_pre * n_post))
            pname = nm if g == gates[0] else f"{nm}_{GATE_NAMES[g]}"
            if pname != nm and pname in taken_names:
                raise NetlistError([Problem(net.projections[names.index(nm)].loc,
                                            f"prune: {nm}: cannot name its {GATE_NAMES[g]} gate {pname!r}, a "
                                            f"projection of that name exists")])
            taken_names.add(pname)
            fname = f"{base}_{pname}.npz"
            cols = {"pre": local_index(pre[keep], p.pre_pops, arrays), "post": local_index(post[keep], p.post_pops, arrays),
                    "weight": w[keep]}
            q = dict(proj)
            q.update(name=pname, port=GATE_NAMES[g], connect={"file": fname}, weight={"column": "weight"})
            if np.unique(d).size > 1:
                cols["delay"] = d[keep] * gn.dt
                q["delay"] = {"column": "delay"}
            with replacing(os.path.join(folder, fname), "wb") as fh:
                np.savez(fh, **cols)
            new_projs.append(q)
            report[pname] = {"from": nm, "gate": GATE_NAMES[g], "synapses": int(w.size), "kept": int(keep.size),
                             "dense": int(n_pre * n_post), "density": keep.size / (n_pre * n_post)}
    data["projections"] = new_projs
    header = (f"# {net.name}, magnitude-pruned by evsim prune to density {density:g} per gate "
              f"(projections: {', '.join(chosen)}) from {os.path.basename(path)}\n")
    write_text(out_path, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100,
                                                 default_flow_style=None))
    # what was written must build the pruned network: the kept weights, nothing else changed
    back = build(netspec.expand(netspec.load(out_path)))
    if back.n != gn.n or not (np.array_equal(back.theta, gn.theta) and np.array_equal(back.b, gn.b)):
        raise RuntimeError(f"the pruned netlist {out_path} does not reproduce the network's units")
    kept = sum(r["kept"] for r in report.values())
    if back.csr0.size + back.csr1.size != gn.csr0.size + gn.csr1.size - sum(r["synapses"] - r["kept"]
                                                                            for r in report.values()):
        raise RuntimeError(f"the pruned netlist {out_path} does not hold the {kept} kept synapses")
    return report


__all__ = ["prune", "keep_largest", "gate_weights", "U", "R", "Z"]
