"""`kubeskippy send` against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from typer.testing import CliRunner

from kubeskippy.cli.main import app
from kubeskippy.events.cloudevents import decode_payload, parse_http
from kubeskippy.events.schemas import example_payloads
from kubeskippy.ingest.apiserver import decode_apiserver_event

runner = CliRunner()
FINDING = example_payloads()["io.kubeskippy.finding"]


class Receiver:
    """A loopback HTTP server that records each request and answers as told."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 202
        self.reply: tuple[dict[str, str], bytes] = ({}, b"")
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                headers, reply = receiver.reply
                self.send_response(receiver.status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_an_event_of_ours_is_validated_sent_and_acknowledged(receiver):
    result = runner.invoke(app, ["send", receiver.url, "--type", "io.kubeskippy.finding",
                                 "--data", FINDING.model_dump_json(), "--ext", "kstest=1"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"202 Accepted  io.kubeskippy.finding id={FINDING.id}")
    [(headers, body)] = receiver.requests
    event = parse_http(headers, body)
    assert (event["source"], event["kstest"]) == ("/kubeskippy/cli", "1")
    assert decode_payload(event) == FINDING


def test_structured_mode_a_file_and_overrides(receiver, tmp_path):
    path = tmp_path / "finding.yaml"
    path.write_text(yaml.safe_dump(FINDING.model_dump(mode="json")))
    result = runner.invoke(app, ["send", receiver.url, "-t", "io.kubeskippy.finding", "-f", str(path),
                                 "--mode", "structured", "--source", "/tests/here", "--id", "fixed-1"])
    assert result.exit_code == 0, result.output
    [(headers, body)] = receiver.requests
    assert headers["content-type"].startswith("application/cloudevents+json")
    event = parse_http(headers, body)
    assert (event["id"], event["source"]) == ("fixed-1", "/tests/here")


def test_an_invalid_payload_is_refused_before_anything_is_sent(receiver):
    bad = {**FINDING.model_dump(mode="json"), "trigger_type": "guess"}
    result = runner.invoke(app, ["send", receiver.url, "-t", "io.kubeskippy.finding", "-d", json.dumps(bad)])
    assert result.exit_code == 2
    assert "data.trigger_type: must be one of metric event condition" in result.output
    assert receiver.requests == []


@pytest.mark.parametrize("args, expected", [
    pytest.param(["-t", "io.example.other", "-d", "{}"], "--type: unknown event type 'io.example.other'", id="type"),
    pytest.param(["-t", "io.kubeskippy.finding"], "give exactly one of --data JSON or --file FILE", id="no-data"),
    pytest.param(["-t", "io.kubeskippy.finding", "-d", "{oops"], "--data: must be JSON", id="bad-json"),
    pytest.param(["-t", "io.kubeskippy.finding", "-d", "{}", "--ext", "Bad=1"], "extensions.Bad", id="bad-ext"),
    pytest.param(["--apiserver", "add"], "--apiserver needs --object FILE", id="no-object"),
])
def test_bad_arguments_exit_two_with_a_message(receiver, args, expected):
    result = runner.invoke(app, ["send", receiver.url, *args])
    assert result.exit_code == 2
    assert expected in result.output
    assert receiver.requests == []


@pytest.mark.parametrize("ref", [False, True])
def test_an_apiserver_event_is_built_from_an_object_file(receiver, tmp_path, ref):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"},
           "status": {"phase": "Running"}}
    path = tmp_path / "pod.yaml"
    path.write_text(yaml.safe_dump(pod))
    result = runner.invoke(app, ["send", receiver.url, "--apiserver", "update", "--object", str(path),
                                 *(["--ref"] if ref else [])])
    assert result.exit_code == 0, result.output
    [(headers, body)] = receiver.requests
    event = parse_http(headers, body)
    assert event["type"] == f"dev.knative.apiserver.{'ref' if ref else 'resource'}.update"
    assert (event["subject"], event["namespace"]) == ("/apis/v1/namespaces/shop/pods/web-1", "shop")
    if not ref:
        assert decode_apiserver_event(event, None).obj == pod


def test_a_cloudevent_reply_is_shown_and_a_refusal_exits_one(receiver):
    receiver.status = 200
    receiver.reply = ({"ce-specversion": "1.0", "ce-id": "r1", "ce-source": "/kubeskippy/analyze",
                       "ce-type": "io.kubeskippy.plan", "content-type": "application/json"}, b"{}")
    ok = runner.invoke(app, ["send", receiver.url, "-t", "io.kubeskippy.finding", "-d", FINDING.model_dump_json()])
    assert ok.exit_code == 0 and "reply: io.kubeskippy.plan id=r1" in ok.output
    receiver.status, receiver.reply = 400, ({"content-type": "text/plain"}, b"data.policy: required")
    refused = runner.invoke(app, ["send", receiver.url, "-t", "io.kubeskippy.finding", "-d", FINDING.model_dump_json()])
    assert refused.exit_code == 1
    assert "400 Bad Request" in refused.output and "reply body: data.policy: required" in refused.output


def test_an_unreachable_receiver_exits_three():
    receiver = Receiver()
    url = receiver.url
    receiver.close()
    result = runner.invoke(app, ["send", url, "-t", "io.kubeskippy.finding", "-d", FINDING.model_dump_json(),
                                 "--timeout", "2"])
    assert result.exit_code == 3
    assert "cannot deliver" in result.output
