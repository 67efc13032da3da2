"""Optional RBAC for the development server: bearer token → user → PolicyRules.

Enough of Kubernetes RBAC to prove least privilege in tests: rules match verbs × apiGroups ×
resources (``pods``, ``pods/eviction``, ``*``, ``*/scale``) × resourceNames, granted cluster-wide
(ClusterRoleBinding) or per namespace (RoleBinding). :meth:`Authorizer.from_manifests` reads the
same Role/ClusterRole/RoleBinding/ClusterRoleBinding documents we ship in deploy/, so a test can
check the shipped RBAC rather than a copy of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

__all__ = ["PolicyRule", "Authorizer", "service_account_user"]


@dataclass(frozen=True)
class PolicyRule:
    verbs: frozenset[str]
    api_groups: frozenset[str]
    resources: frozenset[str]
    resource_names: frozenset[str] = frozenset()

    @classmethod
    def from_dict(cls, rule: Mapping[str, Any]) -> "PolicyRule":
        return cls(frozenset(rule.get("verbs") or ()), frozenset(rule.get("apiGroups") or ()),
                   frozenset(rule.get("resources") or ()), frozenset(rule.get("resourceNames") or ()))

    def allows(self, verb: str, group: str, resource: str, subresource: str | None, name: str | None) -> bool:
        if "*" not in self.verbs and verb not in self.verbs:
            return False
        if "*" not in self.api_groups and group not in self.api_groups:
            return False
        wanted = f"{resource}/{subresource}" if subresource else resource
        candidates = {"*", wanted}
        if subresource:
            candidates |= {f"*/{subresource}", f"{resource}/*"}
        if not self.resources & candidates:
            return False
        if self.resource_names:
            return name is not None and name in self.resource_names
        return True


def service_account_user(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


_Grants = dict[str, list[PolicyRule]]  # namespace ("" = cluster-wide) → rules


class Authorizer:
    """Decides whether a user may do something.

    :param rules_by_user: user → either a list of rule dicts (granted cluster-wide) or a mapping
        namespace → list of rule dicts (``""`` or ``"*"`` meaning cluster-wide).
    :param tokens: bearer token → user; by default a user's token is its own name.
    """

    def __init__(self, rules_by_user: Mapping[str, Any], tokens: Mapping[str, str] | None = None) -> None:
        self._grants: dict[str, _Grants] = {}
        for user, granted in rules_by_user.items():
            grants: _Grants = {}
            if isinstance(granted, Mapping):
                for ns, rules in granted.items():
                    grants.setdefault("" if ns == "*" else ns, []).extend(_rules(rules))
            else:
                grants[""] = list(_rules(granted))
            self._grants[user] = grants
        self._tokens = dict(tokens) if tokens is not None else {user: user for user in rules_by_user}

    def user_for(self, authorization: str | None) -> str | None:
        """The user a ``Bearer <token>`` header authenticates, or None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        return self._tokens.get(authorization[len("Bearer "):].strip())

    def allows(self, user: str, verb: str, group: str, resource: str, subresource: str | None,
               namespace: str | None, name: str | None) -> bool:
        grants = self._grants.get(user, {})
        rules = list(grants.get("", []))
        if namespace:
            rules += grants.get(namespace, [])
        return any(r.allows(verb, group, resource, subresource, name) for r in rules)

    @classmethod
    def from_manifests(cls, documents: Iterable[Mapping[str, Any]], tokens: Mapping[str, str] | None = None
                       ) -> "Authorizer":
        """Resolve (Cluster)RoleBindings to their (Cluster)Roles for every subject. ServiceAccount
        subjects become ``system:serviceaccount:<ns>:<name>``; User subjects keep their name."""
        docs = [d for d in documents if isinstance(d, Mapping)]
        roles = {(d["metadata"].get("namespace", ""), d["metadata"]["name"]): d.get("rules") or []
                 for d in docs if d.get("kind") == "Role"}
        cluster_roles = {d["metadata"]["name"]: d.get("rules") or [] for d in docs if d.get("kind") == "ClusterRole"}
        grants: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
        for binding in docs:
            if binding.get("kind") not in ("RoleBinding", "ClusterRoleBinding"):
                continue
            ref = binding.get("roleRef") or {}
            binding_ns = binding["metadata"].get("namespace", "") if binding["kind"] == "RoleBinding" else ""
            if ref.get("kind") == "ClusterRole":
                rules = cluster_roles.get(ref.get("name"), [])
            else:
                rules = roles.get((binding_ns, ref.get("name")), [])
            for subject in binding.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount":
                    user = service_account_user(subject.get("namespace") or binding_ns, subject["name"])
                else:
                    user = subject.get("name", "")
                grants.setdefault(user, {}).setdefault(binding_ns, []).extend(rules)
        return cls(grants, tokens)


def _rules(rules: Sequence[Any]) -> Iterable[PolicyRule]:
    for rule in rules:
        yield rule if isinstance(rule, PolicyRule) else PolicyRule.from_dict(rule)
