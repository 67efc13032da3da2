"""Kubernetes REST paths → what they address, and the verb a request means (RBAC's vocabulary).

``/api/v1/namespaces/ns/pods/web/log`` → group "", version v1, plural pods, namespace ns, name web,
subresource log. ``/api/v1/namespaces/ns`` is the Namespace object itself, while
``/api/v1/namespaces/ns/pods`` is a collection inside it; the parser tells them apart the way the
API server does.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

__all__ = ["Route", "parse_path", "verb_for"]


@dataclass(frozen=True)
class Route:
    """What a request path addresses; ``plural`` is None for discovery documents."""

    api_version: str
    plural: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0] if "/" in self.api_version else ""


def parse_path(path: str) -> Route | None:
    """Parse a resource path; None when it is not one (e.g. ``/version``)."""
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        api_version, rest = parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
    else:
        return None
    if not rest:
        return Route(api_version)
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    else:
        namespace = None
    if len(rest) > 3:
        return None
    plural = rest[0]
    name = rest[1] if len(rest) >= 2 else None
    sub = rest[2] if len(rest) == 3 else None
    return Route(api_version, plural, namespace, name, sub)


def verb_for(method: str, route: Route, *, watch: bool) -> str:
    """The RBAC verb: get list watch create update patch delete deletecollection."""
    method = method.upper()
    if method == "GET":
        if route.name is None:
            return "watch" if watch else "list"
        return "get"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if route.name is not None else "deletecollection"
    return method.lower()
