"""The Metrics port over Prometheus' HTTP API, through prometheus-api-client.

Why no retries by default: a function's caller (the Knative Broker) already redelivers on a
5xx, so a Prometheus outage should surface at once as a :class:`TemporaryError` instead of
holding a request open through the client's own backoff. A query Prometheus rejects (400
``bad_data``: a PromQL syntax error; 422: an execution error) can never succeed and becomes
:class:`InvalidInput` naming the query.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import datetime, timezone
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from ..errors import FieldError, InvalidInput, TemporaryError, api_error_for_status
from ..ports import Sample, Series

__all__ = ["PrometheusMetrics", "samples_from_result", "series_from_result"]

_STATUS = re.compile(r"HTTP Status Code (\d{3}) \((.*)\)$", re.S)


def _value(raw: Any) -> float:
    """Prometheus sends sample values as strings ("1.5", "NaN", "+Inf")."""
    return float(raw)


def samples_from_result(result: Any) -> list[Sample]:
    """An instant query's ``data.result``: a vector (list of {metric, value}) or a scalar [ts, "v"]."""
    if result is None:
        return []
    if isinstance(result, list) and len(result) == 2 and isinstance(result[0], (int, float)) \
            and isinstance(result[1], str):
        return [Sample(labels={}, value=_value(result[1]))]  # scalar (or string) result
    samples = []
    for item in result:
        value = item.get("value")
        if value is None:  # a native histogram sample carries "histogram" instead; not supported
            continue
        samples.append(Sample(labels=dict(item.get("metric") or {}), value=_value(value[1])))
    return samples


def series_from_result(result: Any) -> list[Series]:
    """A range query's ``data.result``: a matrix (list of {metric, values})."""
    out = []
    for item in result or []:
        points = tuple((float(ts), _value(v)) for ts, v in item.get("values") or ())
        out.append(Series(labels=dict(item.get("metric") or {}), points=points))
    return out


def _prometheus_error(e: PrometheusApiClientException, promql: str) -> Exception:
    match = _STATUS.match(str(e))
    if not match:
        return TemporaryError(f"Prometheus query failed: {e}")
    status = int(match.group(1))
    detail = match.group(2)
    try:
        body = json.loads(ast.literal_eval(detail))
        detail = f"{body.get('errorType', 'error')}: {body.get('error', '')}"
    except (ValueError, SyntaxError, TypeError, AttributeError):
        pass
    if status in (400, 422):
        return InvalidInput([FieldError("query", f"Prometheus rejected {promql!r}: {detail}")])
    return api_error_for_status(status, f"Prometheus: {detail}")


class PrometheusMetrics:
    """:class:`kubeskippy.ports.Metrics` backed by a Prometheus server (synchronous, like every port)."""

    def __init__(self, url: str, *, timeout: float = 10.0, headers: dict[str, str] | None = None,
                 disable_ssl: bool = False, retries: int = 0, client: PrometheusConnect | None = None) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._client = client or PrometheusConnect(
            url=self.url, headers=headers, disable_ssl=disable_ssl, timeout=timeout,
            retry=Retry(total=retries, backoff_factor=0.2, status_forcelist=(), raise_on_status=False))

    def _call(self, promql: str, fn, *args, **kwargs) -> Any:
        try:
            return fn(*args, **kwargs)
        except PrometheusApiClientException as e:
            raise _prometheus_error(e, promql) from e
        except (KeyError, TypeError, ValueError) as e:  # a 200 without the documented shape (JSON errors too)
            raise TemporaryError(f"Prometheus at {self.url} answered an unexpected body: {e}") from e
        except requests.exceptions.RequestException as e:
            raise TemporaryError(f"Prometheus at {self.url} is unreachable: {type(e).__name__}") from e

    def query(self, promql: str, at: float | None = None) -> list[Sample]:
        params = {"time": repr(float(at))} if at is not None else {}
        result = self._call(promql, self._client.custom_query, promql, params=params, timeout=self._timeout)
        return samples_from_result(result)

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        if step <= 0:
            raise InvalidInput([FieldError("step", "must be > 0")])
        if end < start:
            raise InvalidInput([FieldError("end", "must not be before start")])
        # The client rounds start/end to whole seconds; pass the exact values as parameters too.
        params = {"start": repr(float(start)), "end": repr(float(end))}
        result = self._call(
            promql, self._client.custom_query_range, promql,
            start_time=datetime.fromtimestamp(start, tz=timezone.utc),
            end_time=datetime.fromtimestamp(end, tz=timezone.utc),
            step=repr(float(step)), params=params, timeout=self._timeout)
        return series_from_result(result)

    def close(self) -> None:
        self._client.close()
