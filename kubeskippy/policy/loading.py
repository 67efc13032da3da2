"""Load HealingPolicy and HealingAction manifests from multi-document YAML, the way kubectl would.

Why our own loader rather than ``yaml.safe_load`` + ``model_validate``: people debug policies
from error messages, so every bad field is named by its manifest path
(``spec.triggers[1].metricTrigger.operator: must be one of > < >= <= == !=``), a YAML syntax
error gives its line and column, and a bad document never produces a traceback.

Strict mode (the default) rejects unknown fields, as a policy with a misspelt field silently doing
less than its author meant is worse than a refusal. ``compat=True`` behaves like a Kubernetes API
server with a structural CRD schema: unknown fields are pruned (and reported as warnings), and
documents of other kinds in the same file are skipped with a warning. The published KubeSkippy
samples relied on that pruning (see docs/policy.md).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Union

from pydantic import ValidationError

from ..errors import FieldError, InvalidInput
from ..lazy import lazy_attributes
from ..slot_record import SlotRecord
from .model import API_VERSION, HealingPolicy
from .validation import UNKNOWN_FIELD, field_errors_from, format_path

__all__ = [
    "LoadWarning",
    "LoadResult",
    "DocumentResult",
    "InvalidDocuments",
    "check_documents",
    "check_file",
    "check_object",
    "expand_paths",
    "load_documents",
    "load_files",
    "load_file",
    "parse_yaml_documents",
    "KUBESKIPPY_KINDS",
    "LIST_KINDS",
]

if TYPE_CHECKING:
    from .healing_action import HealingAction
    from .load_results import LoadResult, LoadWarning

    Manifest = Union[HealingPolicy, HealingAction]

_KIND_NAMES = ("HealingPolicy", "HealingAction")
LIST_KINDS = ("List", "HealingPolicyList", "HealingActionList")
_GROUP = API_VERSION.split("/")[0]
_MAX_PRUNE_ROUNDS = 5


class DocumentResult(SlotRecord):
    """The outcome for one YAML document: what loaded, what was wrong, what was ignored (a
    SlotRecord: remediate's first event loads this module to read the policies)."""

    __slots__ = ("source", "objects", "errors", "warnings")

    def __init__(self, source: str, objects: list[Manifest] | None = None, errors: list[FieldError] | None = None,
                 warnings: list[LoadWarning] | None = None) -> None:
        self.source = source
        self.objects: list[Manifest] = objects if objects is not None else []
        self.errors: list[FieldError] = errors if errors is not None else []
        self.warnings: list[LoadWarning] = warnings if warnings is not None else []

    @property
    def ok(self) -> bool:
        return not self.errors


class InvalidDocuments(InvalidInput):
    """One or more documents failed. ``errors``/``source`` are those of the first failure (so a
    caller handling :class:`InvalidInput` sees a normal one); ``failures`` holds every failed
    document and the message lists them all."""

    def __init__(self, failures: list[InvalidInput]) -> None:
        first = failures[0]
        super().__init__(first.errors, source=first.source)
        self.failures = failures
        self.args = ("\n".join(str(f) for f in failures),)


def parse_yaml_documents(text: str, *, source: str = "<input>") -> list[Any]:
    """Every document of a YAML stream (empty ones included, as None); see
    :func:`kubeskippy.policy.yaml_documents.parse_yaml_documents`. PyYAML is imported only here,
    on the first text to parse: the functions read policies from the cluster as JSON objects
    (:func:`check_object`), and importing PyYAML costs a cold start ~90 M instructions."""
    from .yaml_documents import parse_yaml_documents as parse

    return parse(text, source=source)


def _delete_path(data: Any, loc: tuple) -> bool:
    node = data
    for part in loc[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(node, dict) and loc and loc[-1] in node:
        del node[loc[-1]]
        return True
    return False


def _validate(model: type[Manifest], data: dict, *, prefix: str, compat: bool
              ) -> tuple[Manifest | None, list[FieldError], list[FieldError]]:
    """Validate by the camelCase names only (a manifest never uses Python names).

    In compat mode, unknown fields are removed and validation repeated, so they become warnings
    and only the real problems remain errors.
    """
    pruned: list[FieldError] = []
    data = copy.deepcopy(data) if compat else data
    for _ in range(_MAX_PRUNE_ROUNDS):
        try:
            return model.model_validate(data, by_alias=True, by_name=False), [], pruned
        except ValidationError as e:
            details = e.errors()
        unknown = [d for d in details if d["type"] == "extra_forbidden"]
        if not compat or not unknown:
            return None, field_errors_from(details, prefix=prefix), pruned
        for d in unknown:
            if _delete_path(data, tuple(d["loc"])):
                pruned.append(FieldError(format_path(d["loc"], prefix), f"{UNKNOWN_FIELD}, ignored"))
    return None, [FieldError(prefix, "unknown fields could not be pruned")], pruned


def _check_object(doc: Any, *, prefix: str, compat: bool, list_kind: str | None = None
                  ) -> tuple[list[Manifest], list[FieldError], list[FieldError]]:
    """One manifest object (a document, or an item of a List)."""
    here = (lambda sub: f"{prefix}.{sub}") if prefix else (lambda sub: sub)
    if not isinstance(doc, dict):
        what = type(doc).__name__ if doc is not None else "null"
        return [], [FieldError(prefix, f"must be an object (a YAML mapping), got {what}")], []
    kind = doc.get("kind")
    api_version = doc.get("apiVersion")
    if list_kind in ("HealingPolicyList", "HealingActionList"):
        # Items of a typed list may leave out apiVersion and kind: the list already names them.
        kind = kind or list_kind[: -len("List")]
        api_version = api_version or API_VERSION
        doc = {**doc, "kind": kind, "apiVersion": api_version}
    errors: list[FieldError] = []
    if not api_version:
        errors.append(FieldError(here("apiVersion"), "required"))
    if not kind:
        errors.append(FieldError(here("kind"), "required"))
    if errors:
        return [], errors, []
    if not isinstance(kind, str) or not isinstance(api_version, str):
        return [], [FieldError(here("kind" if not isinstance(kind, str) else "apiVersion"), "must be a string")], []

    if kind in LIST_KINDS:
        if list_kind is not None:
            return [], [FieldError(here("kind"), "a list inside a list is not supported")], []
        if kind != "List" and api_version != API_VERSION:
            return [], [FieldError(here("apiVersion"), f"must be {API_VERSION} for kind {kind}")], []
        items = doc.get("items")
        if items is None:
            items = []
        if not isinstance(items, list):
            return [], [FieldError(here("items"), "must be a list")], []
        objects, all_errors, all_warnings = [], [], []
        for i, item in enumerate(items):
            objs, errs, warns = _check_object(item, prefix=here(f"items[{i}]"), compat=compat, list_kind=kind)
            objects += objs
            all_errors += errs
            all_warnings += warns
        return objects, all_errors, all_warnings

    group = api_version.split("/")[0] if "/" in api_version else ""
    if group != _GROUP:
        problem = FieldError(here("kind"), f"{api_version}/{kind} is not a KubeSkippy kind "
                                           f"(expected {API_VERSION} HealingPolicy or HealingAction)")
        if compat:
            return [], [], [FieldError(problem.path, problem.message + ", skipped")]
        return [], [problem], []
    if api_version != API_VERSION:
        return [], [FieldError(here("apiVersion"), f"unsupported version {api_version!r}: must be {API_VERSION}")], []
    model = _model_of_kind(kind)
    if model is None:
        return [], [FieldError(here("kind"), "must be one of HealingPolicy HealingAction "
                                             "(or List, HealingPolicyList, HealingActionList)")], []
    obj, errs, warns = _validate(model, doc, prefix=prefix, compat=compat)
    return ([obj] if obj is not None else []), errs, warns


def _model_of_kind(kind: str) -> "type[Manifest] | None":
    """The model of a KubeSkippy kind; HealingAction's models are built only when a document is one."""
    if kind == "HealingPolicy":
        return HealingPolicy
    if kind == "HealingAction":
        from .healing_action import HealingAction

        return HealingAction
    return None


# LoadWarning and LoadResult are defined on first use: a function's cold start needs neither.
_load_results, __dir__ = lazy_attributes(__name__, {"LoadWarning": "load_results", "LoadResult": "load_results"})


def __getattr__(name: str) -> Any:
    if name != "KUBESKIPPY_KINDS":
        return _load_results(name)
    kinds = {kind: _model_of_kind(kind) for kind in _KIND_NAMES}  # kind → model, built on first use
    globals()[name] = kinds
    return kinds


def check_documents(text: str, *, source: str = "<input>", compat: bool = False) -> list[DocumentResult]:
    """Validate every document of a YAML stream and report on each, never raising for content.

    Documents are numbered from 1 in their source (``policies.yaml#2``); empty ones are skipped.
    A YAML syntax error stops the stream (the parser cannot resynchronise): it is reported as
    one result for the whole source.
    """
    try:
        docs = parse_yaml_documents(text, source=source)
    except InvalidInput as e:
        return [DocumentResult(source=source, errors=list(e.errors))]
    return [check_object(doc, source=f"{source}#{index}", compat=compat)
            for index, doc in enumerate(docs, start=1) if doc is not None]


def check_object(doc: Any, *, source: str, compat: bool = False) -> DocumentResult:
    """Validate one manifest that is already a JSON object (an item the API server listed), with
    the same checks and messages as a YAML document, and no YAML parsing in between."""
    objects, errors, warnings = _check_object(doc, prefix="", compat=compat)
    result = DocumentResult(source=source, objects=objects if not errors else [], errors=errors)
    if warnings:
        from .load_results import LoadWarning

        result.warnings = [LoadWarning(w.path, w.message, source=source) for w in warnings]
    return result


def _result_from(reports: Iterable[DocumentResult]) -> LoadResult:
    reports = list(reports)
    failures = [InvalidInput(r.errors, source=r.source) for r in reports if r.errors]
    if failures:
        raise InvalidDocuments(failures)
    from .load_results import LoadResult

    result = LoadResult()
    for report in reports:
        for obj in report.objects:
            (result.policies if isinstance(obj, HealingPolicy) else result.actions).append(obj)
        result.warnings.extend(report.warnings)
    return result


def load_documents(text: str, *, source: str = "<input>", compat: bool = False) -> LoadResult:
    """Load every HealingPolicy and HealingAction of a multi-document YAML text.

    Raises :class:`InvalidDocuments` (an :class:`InvalidInput`) naming every bad field of every
    bad document; nothing is returned unless all documents are valid.
    """
    return _result_from(check_documents(text, source=source, compat=compat))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput("file not found", source=str(path)) from None
    except UnicodeDecodeError as e:
        raise InvalidInput(f"not UTF-8 text: {e.reason} at byte {e.start}", source=str(path)) from None
    except OSError as e:
        raise InvalidInput(f"cannot read: {e.strerror}", source=str(path)) from None


def check_file(path: str | Path, *, compat: bool = False) -> list[DocumentResult]:
    """:func:`check_documents` for a file; an unreadable file becomes one failed result."""
    p = Path(path)
    try:
        text = _read(p)
    except InvalidInput as e:
        return [DocumentResult(source=str(p), errors=list(e.errors))]
    return check_documents(text, source=str(p), compat=compat)


def load_file(path: str | Path, *, compat: bool = False) -> LoadResult:
    return _result_from(check_file(path, compat=compat))


def load_files(paths: Iterable[str | Path], compat: bool = False) -> LoadResult:
    """Load several files (a directory contributes its ``*.yaml``/``*.yml`` files, sorted).

    All files are checked before anything is returned, so the error names every bad document.
    """
    reports: list[DocumentResult] = []
    for path in expand_paths(paths):
        reports.extend(check_file(path, compat=compat))
    return _result_from(reports)


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; directories replaced by their YAML files in name order."""
    out: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml") and q.is_file()))
        else:
            out.append(p)
    return out

