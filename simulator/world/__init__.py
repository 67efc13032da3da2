"""The simulated cluster: pod table, kubelet and controllers, objects, and the Cluster port."""

from .cluster import SimulatedCluster, Mutation
from .world import World
from . import block  # with the package, not at a run's first block (inside the timed run)

__all__ = ["World", "SimulatedCluster", "Mutation", "block"]
