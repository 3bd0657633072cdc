"""What a trained result depends on besides its netlist and seed: the software that computed it.

Training amplifies a difference in the last bit of one product or exp into a different network,
so another numpy or BLAS build, or the same builds choosing other vectorised kernels on another
CPU, can give another accuracy for the same netlist, seed and initial network (the pixel
digits' EGRU, seed 2: 94.44 % on one machine, 97.22 % on another; docs/egru.md), while one
machine gives the same bits with any number of threads. So every training summary records this.
"""
from __future__ import annotations

import platform


def software() -> dict:
    """{python, numpy, numba, blas, blas_core, machine}: versions, the BLAS numpy was built
    against (name and version), where threadpoolctl can tell the kernels it chose on this CPU
    (else None), and the CPU architecture."""
    import numba
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_name = f"{blas.get('name', '?')} {blas.get('version', '?')}"
    except (TypeError, KeyError):          # numpy < 1.26 has no mode="dicts"
        blas_name = "unknown"
    core = None
    try:
        from threadpoolctl import threadpool_info
    except ImportError:                    # only installed with scikit-learn (evsim[images])
        pass
    else:
        core = next((d.get("architecture") for d in threadpool_info() if d.get("user_api") == "blas"), None)
    return {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
            "blas": blas_name, "blas_core": core, "machine": platform.machine()}
