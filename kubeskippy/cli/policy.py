"""``kubeskippy policy check`` and ``kubeskippy policy schema``.

``check`` validates manifests the way the loader does everywhere else (same messages, same
paths), so what passes here loads in the functions and the simulator.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import List

import typer
from rich.console import Console
from rich.text import Text

from ..events.schemas import render_schema_files, stale_schema_files, write_schema_files
from ..policy.loading import DocumentResult, check_file, expand_paths
from ..policy.model import HealingPolicy

__all__ = ["register", "policy_app", "report_as_json", "render_report"]

policy_app = typer.Typer(help="Check HealingPolicy/HealingAction manifests; publish their JSON Schemas.",
                         no_args_is_help=True)


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


def _describe(obj) -> str:
    kind = "HealingPolicy" if isinstance(obj, HealingPolicy) else "HealingAction"
    return f"{kind} {obj.metadata.namespace}/{obj.metadata.name}"


def report_as_json(results: list[DocumentResult]) -> list[dict]:
    return [{
        "source": r.source,
        "ok": r.ok,
        "objects": [{"kind": o.kind, "namespace": o.metadata.namespace, "name": o.metadata.name} for o in r.objects],
        "errors": [{"path": e.path, "message": e.message} for e in r.errors],
        "warnings": [{"path": w.path, "message": w.message} for w in r.warnings],
    } for r in results]


def render_report(results: list[DocumentResult], console: Console) -> None:
    """One line per document, then its errors and warnings indented (plain Text: no markup injection)."""
    for r in results:
        if r.ok:
            line = Text("OK    ", style="bold green") + Text(r.source)
            if r.objects:
                line += Text("  " + ", ".join(_describe(o) for o in r.objects), style="dim")
        else:
            line = Text("ERROR ", style="bold red") + Text(r.source)
        console.print(line, soft_wrap=True)
        for e in r.errors:
            console.print(Text("      " + str(e), style="red"), soft_wrap=True)
        for w in r.warnings:
            message = f"{w.path}: {w.message}" if w.path else w.message
            console.print(Text("      warning: " + message, style="yellow"), soft_wrap=True)


@policy_app.command("check")
def check(
    files: List[Path] = typer.Argument(..., help="Manifest files or directories (their *.yaml, *.yml)."),
    compat: bool = typer.Option(False, "--compat", help="Prune unknown fields and skip foreign kinds, with "
                                                        "warnings (as an API server with a CRD schema does)."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json"),
) -> None:
    """Validate manifests; exit 1 when any document has errors."""
    results: list[DocumentResult] = []
    for path in expand_paths(files):
        results.extend(check_file(path, compat=compat))
    if output is OutputFormat.json:
        typer.echo(json.dumps(report_as_json(results), indent=2))
    else:
        console = Console(highlight=False)
        render_report(results, console)
        if not results:
            console.print("no documents found")
    if any(not r.ok for r in results):
        raise typer.Exit(1)


@policy_app.command("schema")
def schema(
    out: Path = typer.Option(Path("schemas"), "--out", help="Directory to write the schemas and examples to."),
    check_only: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if any file is out of date."),
) -> None:
    """Regenerate the JSON Schemas (policy, CRD openAPIV3Schema, event types) and event examples."""
    if check_only:
        stale = stale_schema_files(out)
        for rel in stale:
            typer.echo(f"out of date: {out / rel}")
        if stale:
            typer.echo("run `kubeskippy policy schema` to regenerate")
            raise typer.Exit(1)
        typer.echo(f"{len(render_schema_files())} files up to date in {out}")
        return
    written = write_schema_files(out)
    typer.echo(f"wrote {len(written)} files to {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(policy_app, name="policy")
