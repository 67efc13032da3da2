"""The three PATCH formats the API server accepts, applied to plain JSON documents.

* JSON merge patch (RFC 7386): maps merge, ``null`` deletes, lists are replaced whole.
* JSON patch (RFC 6902): add / remove / replace / move / copy / test on JSON pointers.
* Strategic merge patch: like a merge patch, but lists that Kubernetes declares as "merge by key"
  (containers by ``name``, conditions by ``type``, ...) merge element by element, and the
  ``$patch: delete|replace|merge`` directives, ``$deleteFromPrimitiveList/<f>``,
  ``$setElementOrder/<f>`` and ``$retainKeys`` are honoured. The merge keys are looked up by field
  name (a table below), not from OpenAPI schemas; that covers pods, workloads and nodes.

Errors are API-server shaped: an undecodable patch → 400 BadRequest; a patch that cannot be
applied (a failed ``test``, a missing path) → 422 Invalid.
"""

from __future__ import annotations

import copy
from typing import Any

from .status import bad_request, status_error

__all__ = [
    "apply_merge_patch",
    "apply_json_patch",
    "apply_strategic_merge_patch",
    "STRATEGIC_MERGE_KEYS",
    "STRATEGIC_SET_LISTS",
]

STRATEGIC_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "taints": "key",
    "addresses": "type",
    "readinessGates": "conditionType",
    "resourceClaims": "name",
    "schedulingGates": "name",
}
"""Lists merged element-by-element, keyed by this field of each element."""

STRATEGIC_SET_LISTS = frozenset({"finalizers"})
"""Lists of scalars merged as ordered sets (``patchStrategy: merge`` on a primitive list)."""


# --- RFC 7386 -----------------------------------------------------------------------------

def apply_merge_patch(target: Any, patch: Any) -> Any:
    """Return ``target`` with the merge patch applied; neither argument is modified."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


# --- RFC 6902 -----------------------------------------------------------------------------

def _unprocessable(message: str) -> Exception:
    return status_error(422, message)


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise bad_request(f"invalid JSON pointer {path!r}: must be empty or start with '/'")
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list, token: str, *, for_add: bool) -> int:
    if token == "-" and for_add:
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise _unprocessable(f"invalid array index {token!r}")
    i = int(token)
    limit = len(container) if for_add else len(container) - 1
    if i > limit:
        raise _unprocessable(f"array index {i} out of bounds")
    return i


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise _unprocessable(f"path {path!r}: {token!r} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, for_add=False)]
        else:
            raise _unprocessable(f"path {path!r}: cannot descend into a scalar")
    return node


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable(f"path {path!r} does not exist")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, for_add=False)]
    raise _unprocessable(f"path {path!r}: cannot descend into a scalar")


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, for_add=True), value)
    else:
        raise _unprocessable(f"path {path!r}: cannot add to a scalar")
    return doc


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        raise _unprocessable("cannot remove the whole document")
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _unprocessable(f"path {path!r} does not exist")
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last, for_add=False)]
    else:
        raise _unprocessable(f"path {path!r}: cannot remove from a scalar")
    return doc


def apply_json_patch(target: Any, operations: Any) -> Any:
    """Apply an RFC 6902 operation list atomically (a failure leaves ``target`` untouched)."""
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for n, op in enumerate(operations):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"JSON patch operation {n} must be an object with 'op' and 'path'")
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise bad_request(f"JSON patch operation {n} ({kind}) is missing 'value'")
        if kind in ("move", "copy") and "from" not in op:
            raise bad_request(f"JSON patch operation {n} ({kind}) is missing 'from'")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)  # must exist
            if _pointer(path):
                doc = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "move":
            source = op["from"]
            if path != source and path.startswith(source + "/"):
                raise _unprocessable(f"cannot move {source!r} into its own child {path!r}")
            value = _get(doc, source)
            doc = _remove(doc, source)
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, op["from"])))
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise _unprocessable(f"testing value {path} failed: test failed")
        else:
            raise bad_request(f"JSON patch operation {n}: unknown op {kind!r}")
    return doc


# --- strategic merge patch ----------------------------------------------------------------

_DELETE = object()


def _merge_key(field: str, items: list) -> str | None:
    if field == "ports":  # container ports merge by containerPort, service ports by port
        for item in items:
            if isinstance(item, dict):
                return "containerPort" if "containerPort" in item else "port"
        return "containerPort"
    return STRATEGIC_MERGE_KEYS.get(field)


def _strategic_list(field: str, original: Any, patch: list) -> list:
    directives = [p for p in patch if isinstance(p, dict) and "$patch" in p and len(p) == 1]
    if any(d["$patch"] == "replace" for d in directives):
        return [copy.deepcopy(p) for p in patch if p not in directives]
    base = copy.deepcopy(original) if isinstance(original, list) else []
    if field in STRATEGIC_SET_LISTS:
        for value in patch:
            if value not in base:
                base.append(copy.deepcopy(value))
        return base
    key = _merge_key(field, patch + base)
    if key is None:
        return [copy.deepcopy(p) for p in patch]
    for element in patch:
        if not isinstance(element, dict):
            raise bad_request(f"strategic merge patch: {field} elements must be objects")
        if element in directives:
            continue
        if key not in element:
            raise bad_request(f"strategic merge patch: {field} element has no merge key {key!r}")
        index = next((i for i, e in enumerate(base) if isinstance(e, dict) and e.get(key) == element[key]), None)
        if element.get("$patch") == "delete":
            if index is not None:
                del base[index]
            continue
        if index is None:
            merged = _strategic_map({}, element)
            if merged is not _DELETE:
                base.append(merged)
        else:
            merged = _strategic_map(base[index], element)
            if merged is _DELETE:
                del base[index]
            else:
                base[index] = merged
    return base


def _strategic_map(original: Any, patch: dict) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive not in (None, "merge"):
        raise bad_request(f"strategic merge patch: unknown $patch directive {directive!r}")
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    orders: dict[str, list] = {}
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$setElementOrder/"):
            orders[key.partition("/")[2]] = value or []
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.partition("/")[2]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in (value or [])]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _strategic_map(result.get(key), value)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _strategic_list(key, result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    for field, order in orders.items():
        current = result.get(field)
        if isinstance(current, list):
            result[field] = _reorder(field, current, order)
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"] or [])
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _reorder(field: str, items: list, order: list) -> list:
    key = _merge_key(field, items)

    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    ranked = sorted(range(len(items)), key=lambda i: (wanted.index(ident(items[i])) if ident(items[i]) in wanted
                                                      else len(wanted) + i))
    return [items[i] for i in ranked]


def apply_strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Apply a strategic merge patch to a whole object (``patch`` must be a JSON object)."""
    if not isinstance(patch, dict):
        raise bad_request("a strategic merge patch must be a JSON object")
    result = _strategic_map(target, patch)
    if result is _DELETE:
        raise bad_request("strategic merge patch: $patch: delete on the whole object is not allowed")
    return result
