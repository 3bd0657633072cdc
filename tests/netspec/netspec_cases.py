"""Data shared by the netlist-layer tests: valid example netlists that use every value form
and connection rule, the data files they read, and the shipped netlists.

Imported by name (``from netspec_cases import FULL``), not from ``conftest``: other test
folders have a conftest.py of their own, and ``import conftest`` would find whichever ran last."""
from __future__ import annotations

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
YAML_MODELS = os.path.join(REPO, "yaml_models")

#: a small valid netlist: header lines many tests extend
MINIMAL = """\
name: t
seed: 1
time: {duration: 100 ms}
populations:
  a: {size: 10, model: lif}
"""


def yaml_model_files():
    """Every shipped netlist (a new file in yaml_models/ is picked up automatically)."""
    return sorted(os.path.join(YAML_MODELS, f) for f in os.listdir(YAML_MODELS)
                  if f.endswith((".yaml", ".yml")))


def write_data_files(d) -> None:
    """The data files FULL reads, written into directory ``d``."""
    d = str(d)
    rng = np.random.default_rng(0)
    np.save(os.path.join(d, "tau.npy"), rng.uniform(10, 30, 8))                      # ms, one per neuron
    np.savez(os.path.join(d, "vals.npz"), v_th=np.linspace(-52, -48, 8))              # mV
    np.save(os.path.join(d, "w12.npy"), np.arange(12, dtype=np.float32))
    with open(os.path.join(d, "vals.csv"), "w") as fh:
        fh.write("# per-neuron values\nt_ref,other\n" + "".join(f"{1 + i * 0.5},{i}\n" for i in range(8)))
    pre = np.array([0, 1, 2, 3, 4, 5], dtype=np.int64)
    post = np.array([1, 2, 3, 4, 5, 6], dtype=np.int64)
    np.savez(os.path.join(d, "conn.npz"), pre=pre, post=post, w=np.arange(6) * 0.5, d=1.0 + np.arange(6))
    with open(os.path.join(d, "conn.csv"), "w") as fh:
        fh.write("pre,post,weight,delay\n" + "".join(f"{a},{b},{0.1 * (a + 1)},{2 + b}\n" for a, b in zip(pre, post)))
    np.savez(os.path.join(d, "spikes.npz"), times=np.array([1.0, 2.5, 0.5]), ids=np.array([0, 1, 1]))
    with open(os.path.join(d, "spikes.csv"), "w") as fh:
        fh.write("time,id\n0.001,0\n0.002,2\n")


#: a valid netlist using every value form (constant, uniform, normal with min/max, values,
#: file .npy/.npz/.csv, ternary, column) and every connection rule; needs write_data_files
FULL = """\
name: full
description: every value form and connection rule
seed: 7
time: {duration: 200 ms, mode: exact, dt: 0.1 ms}
precision: double
populations:
  exc:
    size: 8
    model: lif_exp
    params:
      tau_m: {file: {path: tau.npy, unit: ms}}
      v_th: {file: {path: vals.npz, key: v_th, unit: mV}}
      t_ref: {file: {path: vals.csv, key: t_ref, unit: ms}}
      tau_exc: {uniform: [2 ms, 5 ms]}
      tau_inh: {normal: {mean: 8 ms, std: 1 ms, min: 5 ms, max: 11 ms}}
      e_l: -65 mV
      v_reset: {values: [-70 mV, -70 mV, -71 mV, -72 mV, -70 mV, -70 mV, -70 mV, -69 mV]}
    init: {v: {uniform: [-70 mV, -60 mV]}, i_exc: 0.5 mV}
  inh: {size: 4, like: exc, params: {tau_m: 10 ms, v_th: -50 mV, t_ref: 2 ms, v_reset: -70 mV}}
  plain: {size: 6, model: lif, params: {i_bias: 0.002}}
  integ: {size: 3, model: if}
  adapt: {size: 5, model: alif, params: {beta: 2 mV}, init: {a: {values: [0 mV, 1 mV, 2 mV, 3 mV, 4 mV]}}}
  drive: {size: 5, model: poisson, params: {rate: 20 Hz, stop: 150 ms}}
  listed: {size: 3, model: spike_times, spikes: [[1 ms, 5 ms], [], [2.5 ms]]}
  paired: {size: 2, model: spike_times, spikes: {times: [1 ms, 2 ms, 3 ms], ids: [1, 0, 1]}}
  filed: {size: 2, model: spike_times, spikes: {file: spikes.npz, unit: ms}}
  csvspk: {size: 3, model: spike_times, spikes: {file: spikes.csv}}
projections:
  - {name: ee, from: exc, to: exc, connect: {probability: 0.3, allow_self: false}, weight: 1.5 mV,
     delay: {uniform: [1 ms, 3 ms]}}
  - {name: ei, from: exc, to: inh, connect: all_to_all, weight: {normal: {mean: 1 mV, std: 0.2 mV, min: 0.5 mV, max: 1.5 mV}},
     delay: {normal: {mean: 2 ms, std: 0.5 ms, min: 1 ms}}}
  - {name: ie, from: inh, to: [exc, inh], connect: {in_degree: 2, allow_self: false}, weight: -2 mV, delay: 1 ms,
     port: inh}
  - {name: tern, from: [exc, inh], to: adapt, connect: {out_degree: 2}, weight: {ternary: {value: 1 mV, p: [0.25, 0.25, 0.5]}},
     delay: 0.5 ms}
  - {name: multi, from: drive, to: plain, connect: {in_degree: 3, multapses: true}, weight: 0.5 mV, delay: 2 ms}
  - {name: one, from: listed, to: integ, connect: one_to_one, weight: {values: [1 mV, 2 mV, 3 mV]},
     delay: {values: [1 ms, 2 ms, 3 ms]}}
  - {name: pairs, from: paired, to: [plain, integ], connect: {pairs: [[0, 0], [1, 7], [1, 8]]}, weight: 2 mV, delay: 1 ms}
  - {name: npzconn, from: exc, to: exc, connect: {file: conn.npz}, weight: {column: {name: w, unit: mV}},
     delay: {column: {name: d, unit: ms}}}
  - {name: csvconn, from: exc, to: exc, connect: {file: conn.csv}, weight: {column: weight}, delay: {column: {name: delay, unit: ms}}}
  - {name: filedw, from: exc, to: exc, connect: one_to_one, weight: {file: {path: vals.npz, key: v_th, unit: uV}},
     delay: {file: {path: vals.csv, key: t_ref, unit: ms}}}
  - {name: fromfile, from: filed, to: plain, connect: all_to_all, weight: {file: {path: w12.npy, unit: mV}}, delay: 1 ms}
  - {name: csvw, from: csvspk, to: plain, connect: {out_degree: 6}, weight: 1 mV, delay: 0.1 ms}
  - {name: zero, from: integ, to: plain, connect: all_to_all, weight: 0.1 mV}
record:
  spikes: [exc, inh, plain]
  state: {exc: {vars: [v, i_exc], neurons: [0, 3], every: 0.5 ms}, plain: {vars: [v], neurons: all}}
"""

#: a valid grid-mode netlist
GRID = """\
name: grid
seed: 3
time: {duration: 50 ms, mode: grid, dt: 0.1 ms}
precision: single
populations:
  exc: {size: 20, model: lif_exp, params: {tau_m: 20 ms, v_th: -50 mV, v_reset: -60 mV}}
  inh: {size: 5, like: exc}
  src: {size: 4, model: poisson, params: {rate: 50 Hz}}
projections:
  - {name: in, from: src, to: [exc, inh], connect: {probability: 0.5}, weight: 2 mV, delay: {uniform: [0.1 ms, 1 ms]}}
  - {name: rec, from: [exc, inh], to: exc, connect: {in_degree: 4}, weight: {uniform: [-1 mV, 1 mV]}, delay: 0.3 ms}
record: {spikes: all, state: {exc: {vars: [v], neurons: [0], every: 0.2 ms}}}
"""
