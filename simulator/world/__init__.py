"""The simulated cluster: pod table, kubelet and controllers, objects, and the Cluster port."""

from .cluster import SimulatedCluster, Mutation
from .world import World

__all__ = ["World", "SimulatedCluster", "Mutation"]
