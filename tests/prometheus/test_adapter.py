"""The Metrics adapter over Prometheus' HTTP API: result shapes, and errors mapped to our tree.

HTTP is faked at the server (a loopback server answering like Prometheus' /api/v1), not by
patching the client, so the real client library and its error paths run.
"""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from kubeskippy.adapters.prometheus import PrometheusMetrics, samples_from_result, series_from_result
from kubeskippy.errors import APIError, InvalidInput, TemporaryError
from kubeskippy.ports import Metrics, Sample, Series


class FakePrometheus:
    def __init__(self) -> None:
        self.answer: tuple[int, object] = (200, {"status": "success", "data": {"resultType": "vector", "result": []}})
        self.queries: list[tuple[str, dict[str, list[str]]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                fake.queries.append((url.path, parse_qs(url.query)))
                status, payload = fake.answer
                body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake():
    f = FakePrometheus()
    yield f
    f.close()


def success(result_type: str, result: object) -> dict:
    return {"status": "success", "data": {"resultType": result_type, "result": result}}


def test_the_adapter_satisfies_the_metrics_port(fake):
    assert isinstance(PrometheusMetrics(fake.url), Metrics)


def test_an_instant_vector_becomes_samples_and_the_time_is_passed_exactly(fake):
    fake.answer = (200, success("vector", [
        {"metric": {"namespace": "shop", "pod": "a"}, "value": [1767225600.5, "91.25"]},
        {"metric": {"namespace": "shop", "pod": "b"}, "value": [1767225600.5, "NaN"]},
    ]))
    samples = PrometheusMetrics(fake.url).query("memory_usage", at=1767225600.5)
    assert samples[0] == Sample(labels={"namespace": "shop", "pod": "a"}, value=91.25)
    assert math.isnan(samples[1].value)
    path, params = fake.queries[0]
    assert path == "/api/v1/query" and params == {"query": ["memory_usage"], "time": ["1767225600.5"]}


def test_a_range_matrix_becomes_series_and_fractional_bounds_survive(fake):
    fake.answer = (200, success("matrix", [
        {"metric": {"pod": "a"}, "values": [[1767225600, "1"], [1767225615, "+Inf"]]}]))
    [series] = PrometheusMetrics(fake.url).query_range("up", start=1767225600.25, end=1767225900.75, step=15)
    assert series == Series(labels={"pod": "a"}, points=((1767225600.0, 1.0), (1767225615.0, math.inf)))
    _, params = fake.queries[0]
    assert (params["start"], params["end"], params["step"]) == (["1767225600.25"], ["1767225900.75"], ["15.0"])


def test_a_scalar_result_is_one_unlabelled_sample():
    assert samples_from_result([1767225600, "3"]) == [Sample(labels={}, value=3.0)]
    assert samples_from_result(None) == [] and series_from_result(None) == []


def test_a_query_prometheus_rejects_is_invalid_input_naming_the_query(fake):
    fake.answer = (400, {"status": "error", "errorType": "bad_data",
                         "error": 'invalid parameter "query": 1:5: parse error: unexpected end of input'})
    with pytest.raises(InvalidInput) as info:
        PrometheusMetrics(fake.url).query("sum(")
    [error] = info.value.errors
    assert error.path == "query"
    assert error.message == ("Prometheus rejected 'sum(': bad_data: invalid parameter \"query\": 1:5: parse error: "
                             "unexpected end of input")


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_temporary_with_its_status(fake, status):
    fake.answer = (status, {"status": "error", "errorType": "unavailable", "error": "TSDB not ready"})
    with pytest.raises(APIError) as info:
        PrometheusMetrics(fake.url).query("up")
    assert info.value.status == status
    assert isinstance(info.value, TemporaryError)
    assert "TSDB not ready" in str(info.value)


def test_an_unexpected_body_is_temporary(fake):
    fake.answer = (200, b"<html>proxy login</html>")
    with pytest.raises(TemporaryError, match="unexpected body"):
        PrometheusMetrics(fake.url).query("up")


def test_an_unreachable_server_is_temporary_and_fails_fast():
    f = FakePrometheus()
    url = f.url
    f.close()
    with pytest.raises(TemporaryError, match="unreachable"):
        PrometheusMetrics(url, timeout=2).query("up")


@pytest.mark.parametrize("kwargs, path", [({"step": 0}, "step"), ({"step": 15, "end": 1}, "end")])
def test_impossible_ranges_are_refused_without_a_request(fake, kwargs, path):
    args = {"start": 10.0, "end": 20.0, **kwargs}
    with pytest.raises(InvalidInput) as info:
        PrometheusMetrics(fake.url).query_range("up", **args)
    assert info.value.errors[0].path == path
    assert fake.queries == []
