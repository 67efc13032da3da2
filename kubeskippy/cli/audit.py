"""``kubeskippy audit ls|show|verify|stats``: read the audit trail from either sink.

The sink comes from the same environment the audit function reads (KUBESKIPPY_AUDIT_SINK, ...;
see :mod:`kubeskippy.audit.config`), with ``--sink``/``--dir``/``--endpoint``/``--bucket`` to
override it. Exit codes: 0 fine, 1 ``verify`` found problems, 2 bad input or a refusal from the
store, 3 a transient fault (try again).
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from ..adapters.s3_audit import sink_from_config
from ..audit.config import ENV
from ..audit.correlation import read_metadata_value
from ..audit.reader import AuditQuery, find_objects, load_record, load_records, record_time
from ..audit.stats import compute_stats
from ..audit.verify import verify_records
from ..clock import Clock, WallClock, from_rfc3339
from ..durations import format_duration, parse_duration
from ..errors import APINotFound, FieldError, InvalidInput, KubeSkippyError, PermanentError
from ..ports import AuditSink
from ..types import to_timestamp_text

__all__ = ["register", "audit_app", "query_from_options"]

audit_app = typer.Typer(help="Read the audit trail: list, show, verify digests, stats.", no_args_is_help=True)

SinkOpt = typer.Option(None, "--sink", help="local or s3 (default: $KUBESKIPPY_AUDIT_SINK, else local)")
DirOpt = typer.Option(None, "--dir", help="local sink directory (default: $KUBESKIPPY_AUDIT_DIR)")
EndpointOpt = typer.Option(None, "--endpoint", help="S3 endpoint (default: $KUBESKIPPY_AUDIT_S3_ENDPOINT)")
BucketOpt = typer.Option(None, "--bucket", help="S3 bucket (default: $KUBESKIPPY_AUDIT_S3_BUCKET)")
SinceOpt = typer.Option(None, "--since", help="only the last DURATION, e.g. 2h or 30m")
FromOpt = typer.Option(None, "--from", help="start time, RFC 3339 (e.g. 2026-11-21T22:00:00Z)")
ToOpt = typer.Option(None, "--to", help="end time, RFC 3339")
PolicyOpt = typer.Option(None, "--policy", help="namespace/name or name of a HealingPolicy")
TargetOpt = typer.Option(None, "--target", help="Kind/namespace/name, namespace/name or name")
TypeOpt = typer.Option(None, "--type", help="CloudEvent type, e.g. io.kubeskippy.outcome")
KindOpt = typer.Option(None, "--kind", help="event, dead_letter or healing_action")
JsonOpt = typer.Option(False, "--json", help="machine-readable output")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


def _sink(sink: str | None, directory: str | None, endpoint: str | None, bucket: str | None) -> AuditSink:
    env = dict(os.environ)
    for name, value in (("sink", sink), ("dir", directory), ("endpoint", endpoint), ("bucket", bucket)):
        if value:
            env[ENV[name]] = value
    if directory and not sink:
        env[ENV["sink"]] = "local"
    return sink_from_config(env)


def _time(text: str, option: str) -> float:
    try:
        return from_rfc3339(text)
    except ValueError:
        raise InvalidInput([FieldError(option, f"must be an RFC 3339 time, got {text!r}")]) from None


def query_from_options(*, since: str | None, start: str | None, end: str | None, policy: str | None,
                       target: str | None, event_type: str | None, kind: str | None, clock: Clock) -> AuditQuery:
    """The query the filter options describe; an open end means now."""
    if since and start:
        raise InvalidInput([FieldError("--since", "use either --since or --from, not both")])
    if kind and kind not in ("event", "dead_letter", "healing_action"):
        raise InvalidInput([FieldError("--kind", f"must be event, dead_letter or healing_action, got {kind!r}")])
    now = clock.now()
    lo = hi = None
    if since:
        try:
            lo = now - parse_duration(since)
        except ValueError as e:
            raise InvalidInput([FieldError("--since", str(e))]) from None
    if start:
        lo = _time(start, "--from")
    if end:
        hi = _time(end, "--to")
    elif lo is not None:
        hi = now
    return AuditQuery(start=lo, end=hi, type=event_type, kind=kind, policy=policy, target=target)


def _run(action: Any) -> None:
    """Run a command body, turning our errors into a message and an exit code."""
    try:
        action()
    except APINotFound as e:
        typer.echo(f"error: not found: {e}", err=True)
        raise typer.Exit(2) from None
    except PermanentError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from None
    except KubeSkippyError as e:
        typer.echo(f"error (temporary, try again): {e}", err=True)
        raise typer.Exit(3) from None


def _meta(metadata: Any, name: str) -> str:
    return read_metadata_value(metadata.get(name, ""))


@audit_app.command("ls")
def list_records(since: Optional[str] = SinceOpt, start: Optional[str] = FromOpt, end: Optional[str] = ToOpt,
                 policy: Optional[str] = PolicyOpt, target: Optional[str] = TargetOpt,
                 event_type: Optional[str] = TypeOpt, kind: Optional[str] = KindOpt,
                 limit: int = typer.Option(0, "--limit", help="show at most N records (newest), 0 = all"),
                 as_json: bool = JsonOpt, sink: Optional[str] = SinkOpt, directory: Optional[str] = DirOpt,
                 endpoint: Optional[str] = EndpointOpt, bucket: Optional[str] = BucketOpt) -> None:
    """List records, oldest first, filtered by time, type, kind, policy and target."""

    def body() -> None:
        query = query_from_options(since=since, start=start, end=end, policy=policy, target=target,
                                   event_type=event_type, kind=kind, clock=WallClock())
        objects = find_objects(_sink(sink, directory, endpoint, bucket), query)
        if limit > 0:
            objects = objects[-limit:]
        if as_json:
            typer.echo(json.dumps([{"key": o.key, "size": o.size, "metadata": dict(o.metadata)} for o in objects],
                                  indent=2))
            return
        table = Table(title=f"{len(objects)} audit records")
        for column in ("time", "type", "kind", "policy", "target", "status", "key"):
            table.add_column(column, overflow="fold")
        for o in objects:
            when = record_time(o)
            table.add_row(to_timestamp_text(when) if when is not None else "?", _meta(o.metadata, "event-type"),
                          _meta(o.metadata, "kind"), _meta(o.metadata, "policy"), _meta(o.metadata, "target"),
                          _meta(o.metadata, "status"), o.key)
        Console().print(table)

    _run(body)


@audit_app.command("show")
def show_record(key: str = typer.Argument(..., help="object key, as printed by `audit ls`"),
                as_json: bool = JsonOpt, sink: Optional[str] = SinkOpt, directory: Optional[str] = DirOpt,
                endpoint: Optional[str] = EndpointOpt, bucket: Optional[str] = BucketOpt) -> None:
    """Print one record: its metadata, digest check and content."""

    def body() -> None:
        stored = load_record(_sink(sink, directory, endpoint, bucket), key)
        digest = stored.digest
        if as_json:
            typer.echo(json.dumps({"key": key, "metadata": dict(stored.metadata), "digest": digest.status,
                                   "record": stored.record, "error": stored.error or None}, indent=2))
            return
        console = Console()
        table = Table(title=key, show_header=False)
        table.add_column("field")
        table.add_column("value", overflow="fold")
        for name, value in sorted(stored.metadata.items()):
            table.add_row(name, read_metadata_value(value))
        table.add_row("digest check", digest.status)
        console.print(table)
        if stored.record is not None:
            console.print_json(json.dumps(stored.record))
        else:
            console.print(f"[red]not an audit record:[/red] {stored.error}")

    _run(body)


@audit_app.command("verify")
def verify(since: Optional[str] = SinceOpt, start: Optional[str] = FromOpt, end: Optional[str] = ToOpt,
           policy: Optional[str] = PolicyOpt, target: Optional[str] = TargetOpt,
           event_type: Optional[str] = TypeOpt, kind: Optional[str] = KindOpt, as_json: bool = JsonOpt,
           sink: Optional[str] = SinkOpt, directory: Optional[str] = DirOpt,
           endpoint: Optional[str] = EndpointOpt, bucket: Optional[str] = BucketOpt) -> None:
    """Recompute every digest; exit 1 if any record does not match (or has none)."""
    failed = False

    def body() -> None:
        nonlocal failed
        query = query_from_options(since=since, start=start, end=end, policy=policy, target=target,
                                   event_type=event_type, kind=kind, clock=WallClock())
        report = verify_records(_sink(sink, directory, endpoint, bucket), query)
        failed = not report.ok
        if as_json:
            typer.echo(json.dumps(report.as_dict(), indent=2))
            return
        console = Console()
        if report.problems:
            table = Table(title=f"{len(report.problems)} of {report.checked} records failed verification")
            for column in ("key", "status", "recorded sha256", "actual sha256"):
                table.add_column(column, overflow="fold")
            for p in report.problems:
                table.add_row(p.key, p.status, p.expected or "-", p.actual)
            console.print(table)
        else:
            console.print(f"{report.checked} records verified, all digests match")
        for key, why in report.unreadable:
            console.print(f"[yellow]digest ok but not an audit record:[/yellow] {key}: {why}")

    _run(body)
    if failed:
        raise typer.Exit(1)


def _fmt(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(round(seconds, 3))


@audit_app.command("stats")
def stats(since: Optional[str] = SinceOpt, start: Optional[str] = FromOpt, end: Optional[str] = ToOpt,
          policy: Optional[str] = PolicyOpt, target: Optional[str] = TargetOpt, as_json: bool = JsonOpt,
          sink: Optional[str] = SinkOpt, directory: Optional[str] = DirOpt,
          endpoint: Optional[str] = EndpointOpt, bucket: Optional[str] = BucketOpt) -> None:
    """Actions by type and outcome, HealingAction phases, dead letters, and time to heal
    (first finding of a fingerprint to the first healthy verification after it)."""

    def body() -> None:
        query = query_from_options(since=since, start=start, end=end, policy=policy, target=target,
                                   event_type=None, kind=None, clock=WallClock())
        audit_sink = _sink(sink, directory, endpoint, bucket)
        result = compute_stats(load_records(audit_sink, find_objects(audit_sink, query)))
        if as_json:
            typer.echo(json.dumps(result.as_dict(), indent=2))
            return
        console = Console()
        records = Table(title="records")
        records.add_column("kind")
        records.add_column("count", justify="right")
        for name, n in sorted(result.records.items()):
            records.add_row(name, str(n))
        console.print(records)
        actions = Table(title="actions by type and outcome")
        for column in ("action type", "status", "count"):
            actions.add_column(column, justify="right" if column == "count" else "left")
        for (action_type, status), n in sorted(result.actions.items()):
            actions.add_row(action_type, status, str(n))
        console.print(actions)
        heal = result.heal
        ttr = Table(title="time to heal (first finding -> first healthy verification, per fingerprint)")
        for column in ("healed", "open", "mean", "median", "p90", "max"):
            ttr.add_column(column, justify="right")
        ttr.add_row(str(heal.healed), str(heal.open), _fmt(heal.mean), _fmt(heal.median), _fmt(heal.p90),
                    _fmt(heal.max))
        console.print(ttr)
        if result.healing_action_phases:
            phases = Table(title="HealingAction transitions by phase")
            phases.add_column("phase")
            phases.add_column("count", justify="right")
            for phase, n in sorted(result.healing_action_phases.items()):
                phases.add_row(phase, str(n))
            console.print(phases)
        if result.dead_letters:
            dead = Table(title="dead letters")
            for column in ("type", "code", "count"):
                dead.add_column(column)
            for (etype, code), n in sorted(result.dead_letters.items()):
                dead.add_row(etype, code, str(n))
            console.print(dead)

    _run(body)
