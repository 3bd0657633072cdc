"""Random small lif_exp networks for the learning tests (feed-forward or recurrent, with delays,
refractory periods or none, both ports), and a loss that weighs every spike time."""
from __future__ import annotations

import numpy as np

import netspec
from simcore.learning import eventprop as ep
from simcore.learning import network


def random_netlist(seed: int, recurrent: bool = False, t_ref: bool = True, sizes=(6, 4), n_in: int = 4,
                   readout: int = 0, duration_ms: float = 60.0) -> str:
    """YAML of src -> h0 -> h1 (-> out, a non-spiking readout population of ``readout`` neurons),
    excitatory and inhibitory projections with random weights and delays."""
    rng = np.random.default_rng(seed)
    lines = [f"name: r{seed}", f"seed: {seed}", f"time: {{duration: {duration_ms} ms, mode: exact}}", "populations:"]
    times, ids = [], []
    for i in range(n_in):
        t = np.sort(rng.uniform(0, 0.6 * duration_ms, rng.integers(1, 4)))
        times += [f"{x:.5f} ms" for x in t]
        ids += [i] * len(t)
    lines.append(f"  src: {{size: {n_in}, model: spike_times, spikes: {{times: [{', '.join(times)}], "
                 f"ids: [{', '.join(map(str, ids))}]}}}}")
    names = []
    for k, n in enumerate(sizes):
        tr = f"{rng.uniform(0.5, 3):.3f} ms" if t_ref else "0 ms"
        lines.append(f"  h{k}: {{size: {n}, model: lif_exp, params: {{tau_m: {rng.uniform(8, 25):.3f} ms, "
                     f"tau_exc: {rng.uniform(2, 6):.3f} ms, tau_inh: {rng.uniform(3, 9):.3f} ms, e_l: 0 V, "
                     f"v_th: 1 V, v_reset: {rng.uniform(-0.3, 0.2):.3f} V, t_ref: {tr}, "
                     f"i_bias: {rng.uniform(0.5, 1.2):.3f} V}}}}")
        names.append(f"h{k}")
    if readout:
        lines.append(f"  out: {{size: {readout}, model: lif_exp, params: {{tau_m: 15 ms, tau_exc: 4 ms, "
                     f"tau_inh: 6 ms, e_l: 0 V, v_th: 1000 V, v_reset: 0 V, t_ref: 0 ms}}}}")
    lines.append("projections:")
    prev = "src"
    for k, nm in enumerate(names + (["out"] if readout else [])):
        lines.append(f"  - {{name: p{k}e, from: {prev}, to: {nm}, connect: all_to_all, "
                     f"weight: {{uniform: [0.5 V, 2.5 V]}}, delay: {{uniform: [0.2 ms, 6 ms]}}, port: exc}}")
        lines.append(f"  - {{name: p{k}i, from: {prev}, to: {nm}, connect: {{probability: 0.5}}, "
                     f"weight: {{uniform: [-1.5 V, -0.2 V]}}, delay: {{uniform: [0.2 ms, 6 ms]}}, port: inh}}")
        if recurrent and nm != "out":
            lines.append(f"  - {{name: r{k}, from: {nm}, to: {nm}, connect: {{probability: 0.4, allow_self: false}}, "
                         f"weight: {{uniform: [-0.6 V, 0.6 V]}}, delay: {{uniform: [0.5 ms, 4 ms]}}, port: exc}}")
        prev = nm
    lines.append("record: {spikes: all}")
    return "\n".join(lines) + "\n"


def build(text: str):
    """(Network, Trials of the netlist's own input spikes)."""
    expanded = netspec.expand(netspec.loads(text))
    net = network.build(expanded)
    src = expanded.populations["src"]
    return net, ep.Trials.from_lists([(src.spike_times, src.spike_ids + src.offset)])


class SpikeTimeLoss:
    """L = sum over spikes of coef[neuron, ordinal] * t_k (every spike of every neuron counts);
    evaluate() has the interface of losses.TrainLoss."""

    def __init__(self, n: int, seed: int = 0):
        self.coef = np.random.default_rng(seed).normal(size=(n, 8)) * 100.0

    def evaluate(self, net, layout, spikes, labels, need_grad=True):
        from types import SimpleNamespace

        dl = np.zeros_like(spikes.t)
        total = 0.0
        counts = np.zeros((spikes.batch, net.n), dtype=np.int64)
        for b in range(spikes.batch):
            for k in range(int(spikes.count[b])):
                j = int(spikes.n[b, k])
                if net.is_source[j]:
                    continue
                c = self.coef[j, counts[b, j] % self.coef.shape[1]]
                counts[b, j] += 1
                total += c * spikes.t[b, k]
                dl[b, k] = c
        return SimpleNamespace(loss=total, dl_dt=dl, readouts=None, dl_dv=None, counts=counts)
