"""Which policy sets a what-if run compares: the arms.

``--policy FILE`` (repeatable; a file or a directory of manifests) gives one arm per value, named
after it. Without it, each scenario's own ``policies`` (paths relative to the scenario file; the
built-in scenarios point at the demo policies shipped beside them) form one arm. The
"no-healing" baseline is always included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from kubeskippy.errors import InvalidInput
from kubeskippy.policy.loading import load_files

from .runner import NO_HEALING, Arm
from .scenario import Scenario

__all__ = ["arms_for", "load_policy_arm"]


def load_policy_arm(path: str | Path, *, name: str | None = None, compat: bool = False) -> Arm:
    p = Path(path)
    if not p.exists():
        raise InvalidInput(f"policy file or directory {str(p)!r} does not exist")
    result = load_files([p], compat=compat)
    if not result.policies:
        raise InvalidInput(f"{p} holds no HealingPolicy")
    return Arm(name or p.stem, tuple(result.policies))


def arms_for(scenario: Scenario, policy_paths: Sequence[str | Path] = (), *, compat: bool = False) -> list[Arm]:
    arms = [Arm(NO_HEALING)]
    if policy_paths:
        arms += [load_policy_arm(p, compat=compat) for p in policy_paths]
    elif scenario.policies:
        base = Path(scenario.source).parent if scenario.source else Path.cwd()
        paths = [base / p for p in scenario.policies]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise InvalidInput(f"scenario {scenario.name}: policies not found: {', '.join(missing)}")
        result = load_files(paths, compat=compat)
        if result.policies:
            arms.append(Arm("scenario-policies", tuple(result.policies)))
    names = [a.name for a in arms]
    if len(set(names)) != len(names):
        raise InvalidInput(f"two policy sets share the name {next(n for n in names if names.count(n) > 1)!r}; "
                           "rename a file")
    return arms
