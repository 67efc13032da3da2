"""``kubeskippy send``: post one CloudEvent to a function, a Broker or any sink.

Our own event types are validated against their model before anything is sent, so a typo
fails here with a field path rather than as a 400 from the function. ApiServerSource events
are built exactly as the source builds them (extensions, subject), so a function can be
exercised without a cluster.

Exit codes: 0 delivered (2xx), 1 the receiver answered non-2xx, 2 bad input, 3 unreachable.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any, List, Optional

import httpx
import typer
from pydantic import ValidationError

from ..errors import FieldError, InvalidInput
from ..events.cloudevents import CloudEvent, check_extension_name, encode, make_event, parse_http
from ..events.types import APISERVER_REF_PREFIX, APISERVER_RESOURCE_PREFIX, EVENT_MODELS
from ..ingest.apiserver import apiserver_event
from ..policy.loading import parse_yaml_documents
from ..policy.validation import field_errors_from

__all__ = ["register", "build_event", "parse_extensions", "read_document"]


class Mode(str, Enum):
    binary = "binary"
    structured = "structured"


class Verb(str, Enum):
    add = "add"
    update = "update"
    delete = "delete"


def read_document(text: str, *, source: str) -> Any:
    """Exactly one JSON or YAML document (JSON is YAML), with line/column on syntax errors."""
    docs = [d for d in parse_yaml_documents(text, source=source) if d is not None]
    if len(docs) != 1:
        raise InvalidInput(f"expected exactly one document, found {len(docs)}", source=source)
    return docs[0]


def parse_extensions(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput([FieldError("--ext", f"{pair!r}: use name=value")])
        check_extension_name(name)
        out[name] = value
    return out


def build_event(event_type: str, data: Any, *, id: str | None = None, source: str | None = None,
                extensions: dict[str, str] | None = None) -> CloudEvent:
    """The event to send: one of ours (validated), or an ApiServerSource one built from an object."""
    for prefix, mode in ((APISERVER_RESOURCE_PREFIX, "resource"), (APISERVER_REF_PREFIX, "ref")):
        if event_type.startswith(prefix):
            verb = event_type[len(prefix):]
            if verb not in ("add", "update", "delete"):
                raise InvalidInput([FieldError("--type", f"unknown ApiServerSource verb {verb!r}")])
            if not isinstance(data, dict):
                raise InvalidInput([FieldError("data", "must be a Kubernetes object")])
            event = apiserver_event(verb, data, mode=mode, id=id, **({"source": source} if source else {}))  # type: ignore[arg-type]
            break
    else:
        model = EVENT_MODELS.get(event_type)
        if model is None:
            raise InvalidInput([FieldError("--type", f"unknown event type {event_type!r}; expected one of "
                                                     + " ".join(EVENT_MODELS) + " or an ApiServerSource type")])
        try:
            payload = model.model_validate(data)
        except ValidationError as e:
            raise InvalidInput(field_errors_from(e, prefix="data")) from None
        try:
            event = make_event(event_type, payload, function="cli", id=id)
        except ValueError as e:
            raise InvalidInput([FieldError("data", str(e))]) from None
        if source:
            event["source"] = source
    for name, value in (extensions or {}).items():
        event[name] = value
    return event


def _fail(message: str, code: int) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _describe_reply(response: httpx.Response) -> str:
    if not response.content and not any(k.lower().startswith("ce-") for k in response.headers):
        return ""
    try:
        reply = parse_http(dict(response.headers), response.content)
        return f"reply: {reply['type']} id={reply['id']}"
    except InvalidInput:
        text = response.text
        return "reply body: " + (text if len(text) <= 2000 else text[:2000] + "…")


def send(
    url: str = typer.Argument(..., help="Where to POST the event (a function, a Broker, any CloudEvents sink)."),
    event_type: Optional[str] = typer.Option(None, "--type", "-t", help="CloudEvent type (io.kubeskippy.* or "
                                                                         "dev.knative.apiserver.*)."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Payload as JSON text."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Payload from a JSON/YAML file ('-': stdin)."),
    apiserver: Optional[Verb] = typer.Option(None, "--apiserver", help="Build an ApiServerSource event for "
                                                                      "--object: add, update or delete."),
    obj: Optional[Path] = typer.Option(None, "--object", help="The Kubernetes object (YAML/JSON) for --apiserver."),
    ref: bool = typer.Option(False, "--ref", help="With --apiserver: Ref mode instead of Resource mode."),
    mode: Mode = typer.Option(Mode.binary, "--mode", help="HTTP content mode."),
    source: Optional[str] = typer.Option(None, "--source", help="Override the source attribute."),
    event_id: Optional[str] = typer.Option(None, "--id", help="Event id (default: derived from the payload)."),
    ext: List[str] = typer.Option([], "--ext", help="Extension attribute name=value (repeatable)."),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds to wait for the receiver."),
) -> None:
    """Send one CloudEvent and print the receiver's answer."""
    try:
        if apiserver is not None:
            if obj is None or data is not None or file is not None:
                raise InvalidInput("--apiserver needs --object FILE (and no --data/--file)")
            event_type = (APISERVER_REF_PREFIX if ref else APISERVER_RESOURCE_PREFIX) + apiserver.value
            payload = read_document(obj.read_text(encoding="utf-8"), source=str(obj))
        else:
            if event_type is None:
                raise InvalidInput("--type is required (or use --apiserver VERB --object FILE)")
            if (data is None) == (file is None):
                raise InvalidInput("give exactly one of --data JSON or --file FILE")
            if data is not None:
                try:
                    payload = json.loads(data)
                except json.JSONDecodeError as e:
                    raise InvalidInput([FieldError("--data", f"must be JSON: {e.msg} at column {e.colno}")]) from None
            else:
                text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")  # type: ignore[union-attr]
                payload = read_document(text, source=str(file))
        event = build_event(event_type, payload, id=event_id, source=source, extensions=parse_extensions(ext))
    except InvalidInput as e:
        _fail(f"invalid input: {e}", 2)
    except OSError as e:
        _fail(f"cannot read {e.filename}: {e.strerror}", 2)

    headers, body = encode(event, mode=mode.value)
    try:
        response = httpx.post(url, headers=headers, content=body, timeout=timeout)
    except httpx.HTTPError as e:
        _fail(f"cannot deliver to {url}: {type(e).__name__}: {e}", 3)
    typer.echo(f"{response.status_code} {response.reason_phrase}  {event['type']} id={event['id']}")
    reply = _describe_reply(response)
    if reply:
        typer.echo(reply)
    if not 200 <= response.status_code < 300:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("send")(send)
