"""Small builders for simulator tests: a scenario from a few workloads, a world stepped in time."""

from __future__ import annotations

from typing import Any

from kubeskippy.simulator.scenario import Scenario, parse_scenario
from kubeskippy.simulator.world import World

__all__ = ["scenario_with", "world_after", "LEAK"]

LEAK = {"name": "memory-leak-app", "model": "memory_leak", "replicas": 2,
        "labels": {"kubeskippy.io/scenario": "memory-leak"},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "512Mi"}}}


def scenario_with(*workloads: dict[str, Any], **fields: Any) -> Scenario:
    return parse_scenario({"name": "test", "workloads": list(workloads), **fields})


def world_after(scenario: Scenario, seconds: float, *, seed: int = 1, step: float | None = None) -> World:
    """A world with the scenario's workloads, stepped to ``seconds`` at ``step`` (default: resolution)."""
    world = World(scenario, seed)
    world.add_workloads()
    step = step or scenario.resolution
    t = 0.0
    while t < seconds - 1e-9:
        t += step
        world.step(t)
    return world
