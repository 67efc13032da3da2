"""patch: strategic, merge or JSON patch of a target, from KubeSkippy's ``patch`` string (YAML or
JSON) and/or its ``patches`` list.

A ``patches`` entry ``{path: [a, b, c], value: V}`` always becomes one JSON-patch (RFC 6902)
operation, whatever ``type`` says — a path with list indexes cannot be written as a merge patch:
- the pointer is ``/a/b/c`` (``~`` and ``/`` escaped as ``~0`` and ``~1``);
- ``V`` is parsed as JSON when it is valid JSON (``"3"`` → 3, ``"{\"cpu\":\"1\"}"`` → object),
  otherwise used as the string itself;
- the op is ``replace`` when the path exists in the live object, else ``add``; missing parent
  objects are created by adding the nested remainder at the first missing step.
The ``patch`` string is applied first with the declared ``type``, then the ``patches`` ops. The
operations are fixed in the intent when prepared, so a re-drive applies the same ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from ...errors import FieldError
from ...kinds import KINDS
from ...structured_text import StructuredTextError, load_structured_text
from ..diffing import diff_fields
from ..model import ActionContext, ActionReport, Intent, change
from ..params import ParamReader
from .base import Action, load_ref, ref_dict

__all__ = ["PatchParams", "PatchAction", "patches_to_json_patch"]

_NOT_PATCHABLE = {"HealingAction", "HealingPolicy", "Event", "Lease"}


@dataclass(frozen=True)
class PatchParams:
    type: str
    patch: Any = None  # parsed document of the ``patch`` string, or None
    patches: list[tuple[list[str], Any]] = field(default_factory=list)


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _child(node: Any, segment: str) -> tuple[bool, Any]:
    if isinstance(node, dict):
        return (segment in node), node.get(segment)
    if isinstance(node, list) and segment.isdigit():
        i = int(segment)
        return (i < len(node)), (node[i] if i < len(node) else None)
    return False, None


def patches_to_json_patch(live: dict, patches: list[tuple[list[str], Any]]) -> list[dict]:
    """The JSON-patch operations for KubeSkippy ``patches`` entries against ``live`` (see module doc)."""
    ops: list[dict] = []
    for path, value in patches:
        node: Any = live
        for depth, segment in enumerate(path):
            exists, child = _child(node, segment)
            if not exists:
                rest = path[depth + 1:]
                nested: Any = value
                for seg in reversed(rest):
                    nested = {seg: nested}
                pointer = "/" + "/".join(_escape(s) for s in path[: depth + 1])
                ops.append({"op": "add", "path": pointer, "value": nested})
                break
            node = child
        else:
            ops.append({"op": "replace", "path": "/" + "/".join(_escape(s) for s in path), "value": value})
    return ops


class PatchAction(Action):
    type_name = "patch"
    kinds = frozenset(k.kind for k in KINDS) - _NOT_PATCHABLE

    def parse(self, params: Mapping[str, Any]) -> PatchParams:
        r = ParamReader(params)
        kind = r.choice("type", ("strategic", "merge", "json"))
        if kind is None:
            r.errors.append(FieldError("params.type", "is required: strategic, merge or json"))
        text = r.text("patch", "")
        raw_patches = r.raw("patches", [])
        doc: Any = None
        if text and text.strip():
            try:
                doc = load_structured_text(text)
            except StructuredTextError as e:
                r.errors.append(FieldError("params.patch", f"is neither JSON nor YAML: {e}"))
            else:
                if kind == "json" and not (isinstance(doc, list) and all(isinstance(o, dict) and "op" in o
                                                                          for o in doc)):
                    r.errors.append(FieldError("params.patch", "a json patch must be a list of operations "
                                               "({op, path, value})"))
                elif kind in ("strategic", "merge") and not isinstance(doc, dict):
                    r.errors.append(FieldError("params.patch", f"a {kind} patch must be an object"))
        patches: list[tuple[list[str], Any]] = []
        if not isinstance(raw_patches, list):
            r.errors.append(FieldError("params.patches", "must be a list of {path: [..], value}"))
            raw_patches = []
        for i, entry in enumerate(raw_patches):
            where = f"params.patches[{i}]"
            if not isinstance(entry, dict):
                r.errors.append(FieldError(where, "must be an object with path and value"))
                continue
            path, value = entry.get("path"), entry.get("value")
            if not isinstance(path, list) or not path or not all(isinstance(s, str) and s for s in path):
                r.errors.append(FieldError(f"{where}.path", "must be a non-empty list of non-empty strings"))
                continue
            if not isinstance(value, str):
                r.errors.append(FieldError(f"{where}.value", "must be a string (JSON text or a plain string)"))
                continue
            if set(entry) - {"path", "value"}:
                r.errors.append(FieldError(where, f"unknown keys {sorted(set(entry) - {'path', 'value'})}"))
            patches.append((list(path), _parse_value(value)))
        if doc is None and not patches and not r.errors:
            r.errors.append(FieldError("params.patch", "one of patch or patches is required"))
        r.finish()
        return PatchParams(type=kind or "merge", patch=doc, patches=patches)

    def prepare(self, ctx: ActionContext, target: dict, params: PatchParams) -> Intent:
        return {"target": ref_dict(target), "type": params.type, "patch": params.patch,
                "ops": patches_to_json_patch(target, params.patches)}

    def apply(self, ctx: ActionContext, intent: Intent) -> ActionReport:
        ref = load_ref(intent["target"])
        before = ctx.cluster.get(ref.api_version, ref.kind, ref.name, ref.namespace)
        stages: list[dict] = []
        if intent["patch"] is not None:
            stages.append(ctx.cluster.patch(ref.api_version, ref.kind, ref.name, ref.namespace, intent["patch"],
                                            patch_type=intent["type"], dry_run=ctx.dry_run))
        if intent["ops"]:
            # In a dry run the first stage stored nothing, so the ops are tried against the stored
            # object and the two diffs are combined (later stage wins per field).
            stages.append(ctx.cluster.patch(ref.api_version, ref.kind, ref.name, ref.namespace, intent["ops"],
                                            patch_type="json", dry_run=ctx.dry_run))
        by_path: dict[str, tuple] = {}
        base = before
        for after in stages:
            for path, old, new in diff_fields(base, after):
                by_path[path] = (by_path[path][0] if path in by_path else old, new)
            if not ctx.dry_run:
                base = after
        diffs = [(path, old, new) for path, (old, new) in by_path.items() if old != new]
        changes = [change(before, "patch", path, old, new) for path, old, new in diffs]
        what = f"{intent['type']} patch" if intent["patch"] is not None else ""
        if intent["ops"]:
            what += (" + " if what else "") + f"{len(intent['ops'])} JSON-patch op(s)"
        summary = f"patched {ref} with {what}: " + (", ".join(c.field for c in changes[:5]) or "no field changed")
        return ActionReport(message=summary, changes=changes,
                            metrics={"patch.type": intent["type"], "patch.fields": str(len(changes))})
