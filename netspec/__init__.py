"""netspec: the evsim netlist — YAML network descriptions, their checks, and their expansion
into flat arrays. Plain data and validation only: nothing here imports the engine or Numba.

    net = netspec.load("model.yaml", overrides=["populations.exc.size=400"])
    arrays = netspec.expand(net)
"""
from .dump import dumps, save, to_data
from .errors import Location, NetlistError, Problem
from .expand import Expanded, PopulationArrays, SynapseArrays, expand
from .loader import load, loads
from .memory import check_fits, estimate
from .spec import EXACT, GRID, Netlist, Population, Projection

__all__ = [
    "load", "loads", "dumps", "save", "to_data", "expand", "estimate", "check_fits",
    "Netlist", "Population", "Projection", "Expanded", "PopulationArrays", "SynapseArrays",
    "NetlistError", "Problem", "Location", "EXACT", "GRID",
]
