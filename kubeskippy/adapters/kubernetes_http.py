"""A small HTTP client for the Kubernetes API server: the standard library only.

Why not the official ``kubernetes`` client on the functions' path: importing it costs 0.2–0.4 s
(its package ``__init__`` loads the config, dynamic, watch and stream modules, and with them
requests, oauthlib, urllib3, dateutil, websocket), on every cold start, while the Cluster port
needs only what is here: JSON over HTTP/1.1 with keep-alive (:class:`~.http_pool.HttpPool`),
TLS verified against the cluster's CA (optionally a client certificate), a bearer token and
timeouts. In a pod that is the service account, read as the official client reads it
(:func:`in_cluster_settings`). Kubeconfigs (exec plugins, auth providers, proxies) stay with the
official client; see :mod:`kubeskippy.adapters.kubernetes_client`.

Errors: an HTTP answer that is not 2xx becomes the most specific :mod:`kubeskippy.errors` API
error with the server's Status as payload (:func:`error_for_answer`, shared with the official
client's path); no answer at all (refused, reset, timed out, TLS failure) is a
:class:`~kubeskippy.errors.TemporaryError` chained to the socket's exception.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple, Sequence
from urllib.parse import quote, urlencode

from ..errors import APIError, InvalidInput, TemporaryError, api_error_for_status
from .http_pool import Answer, HttpPool, NoAnswer, Timeout

if TYPE_CHECKING:
    from .async_http import AsyncHttpPool

__all__ = [
    "ApiServerSettings",
    "ApiServerConnection",
    "Answer",
    "Timeout",
    "TokenFile",
    "in_cluster_settings",
    "error_for_answer",
    "retry_after",
    "check_answer",
    "decode_json",
    "no_answer_error",
    "SERVICE_ACCOUNT_DIR",
]

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_REREAD_SECONDS = 60.0
"""Bound service-account tokens rotate; re-read the file this often (the official client's period)."""


class TokenFile:
    """A bearer token read from a file, re-read every :data:`TOKEN_REREAD_SECONDS` (kubelet
    refreshes projected service-account tokens in place)."""

    def __init__(self, path: str, *, reread_seconds: float = TOKEN_REREAD_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._reread = reread_seconds
        self._monotonic = monotonic
        self._token = ""
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._monotonic() - self._read_at >= self._reread:
                with open(self.path, encoding="utf-8") as f:
                    token = f.read().strip()
                if token or not self._token:
                    self._token = token
                self._read_at = self._monotonic()
            return self._token


class ApiServerSettings(NamedTuple):
    """Where the API server is and how to authenticate to it.

    ``url`` may carry a path prefix (``https://rancher/k8s/clusters/c-1``). ``token`` is a fixed
    bearer token, or a callable returning the current one (see :class:`TokenFile`). A NamedTuple
    rather than a frozen dataclass: every function's first event defines it, and a dataclass
    costs that cold start ~3.9 M instructions more (docs/functions.md, "Session 7").
    """

    url: str
    token: str | Callable[[], str] | None = None
    ca_file: str | None = None
    ca_data: str | None = None
    """PEM text of the CA bundle (a kubeconfig's ``certificate-authority-data``, decoded)."""
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True

    def bearer_token(self) -> str | None:
        token = self.token() if callable(self.token) else self.token
        return token or None


def in_cluster_settings(service_account_dir: str | None = None,
                        environ: Mapping[str, str] | None = None) -> ApiServerSettings | None:
    """The pod's service account, or None when not running in a pod.

    The same inputs as the official client's in-cluster loader: ``KUBERNETES_SERVICE_HOST`` and
    ``KUBERNETES_SERVICE_PORT`` (an IPv6 host in brackets), the token and ``ca.crt`` of the
    mounted service account (None if either is missing or the token is empty).
    """
    env = os.environ if environ is None else environ
    service_account_dir = service_account_dir or SERVICE_ACCOUNT_DIR
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        return None
    token_path = os.path.join(service_account_dir, "token")
    ca_path = os.path.join(service_account_dir, "ca.crt")
    if not os.path.isfile(token_path) or not os.path.isfile(ca_path):
        return None
    token = TokenFile(token_path)
    try:
        if not token() or os.path.getsize(ca_path) == 0:
            return None
    except OSError:
        return None
    if ":" in host or "%" in host:  # IPv6, as Go's net.JoinHostPort
        host = f"[{host}]"
    return ApiServerSettings(f"https://{host}:{port}", token=token, ca_file=ca_path)


def retry_after(headers: Mapping[str, str] | None, payload: Any) -> float | None:
    """Seconds to wait before retrying: the Retry-After header, else the Status' retryAfterSeconds."""
    value = (headers or {}).get("Retry-After")
    if value is not None:
        try:
            return float(value)
        except ValueError:
            pass
    if isinstance(payload, dict):
        seconds = (payload.get("details") or {}).get("retryAfterSeconds")
        if isinstance(seconds, (int, float)):
            return float(seconds)
    return None


def error_for_answer(status: int, reason: str | None, headers: Mapping[str, str] | None, body: bytes | str | None,
                     method: str, path: str) -> TemporaryError:
    """The kubeskippy error for a non-2xx answer (status 0: no HTTP answer at all)."""
    if not status:
        return TemporaryError(f"{method} {path}: no answer from the API server: {reason}")
    payload: Any = None
    message = reason or ""
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            payload = json.loads(text)
        except ValueError:
            payload = text
        if isinstance(payload, dict) and payload.get("message"):
            message = payload["message"]
    return api_error_for_status(int(status), f"{method} {path}: {message}", payload=payload,
                                delay=retry_after(headers, payload))


class ApiServerConnection:
    """Requests to one API server: keep-alive connections (thread-safe), TLS per the settings, and
    the bearer token (read anew for each request, so a rotated token is picked up)."""

    def __init__(self, settings: ApiServerSettings, *, max_idle: int = 8, user_agent: str = "kubeskippy") -> None:
        self.settings = settings
        self._user_agent = user_agent
        self._max_idle = max_idle
        self._tls = self._ssl_context()
        try:
            self._pool = HttpPool(settings.url.rstrip("/"), ssl_context=self._tls, max_idle=max_idle)
        except ValueError as err:
            raise InvalidInput(f"API server URL: {err}") from None

    @property
    def url(self) -> str:
        return self.settings.url.rstrip("/")

    def _ssl_context(self) -> ssl.SSLContext | None:
        s = self.settings
        if not s.url.startswith("https:"):
            return None
        context = ssl.create_default_context(cafile=s.ca_file, cadata=s.ca_data)
        if s.cert_file:
            context.load_cert_chain(s.cert_file, s.key_file)
        if not s.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def close(self) -> None:
        """Close the idle connections (requests in flight finish on theirs)."""
        self._pool.close()

    def __enter__(self) -> "ApiServerConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def target(self, path: str, query: Sequence[tuple[str, Any]] = ()) -> str:
        """The request target: the URL's path prefix + path + query (values percent-encoded,
        spaces as %20, as the official client sends them)."""
        return self._pool.path_prefix + _with_query(path, query)

    def send(self, method: str, path: str, *, query: Sequence[tuple[str, Any]] = (), body: Any = None,
             content_type: str | None = None, accept: str = "application/json",
             timeout: Timeout = (5.0, 30.0)) -> Answer:
        """One request; ``body`` (any JSON value) is sent as JSON. Any HTTP answer is returned;
        no answer raises :class:`TemporaryError`."""
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = self.headers(method, path, accept, content_type)
        try:
            return self._pool.request(method, self.target(path, query), body=payload, headers=headers,
                                      timeout=timeout)
        except NoAnswer as err:
            raise no_answer_error(method, path, err) from (err.__cause__ or err)

    def headers(self, method: str, path: str, accept: str, content_type: str | None = None) -> dict[str, str]:
        """A request's headers, with the bearer token as it is now (read anew: it rotates; a
        file read at most every minute, see :class:`TokenFile`)."""
        headers = {"Accept": accept, "User-Agent": self._user_agent}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            token = self.settings.bearer_token()
        except OSError as err:  # the token file went away
            raise TemporaryError(f"{method} {path}: cannot read the bearer token: {err}") from err
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def async_pool(self) -> "AsyncHttpPool":
        """Connections to the same server, with the same TLS, for one event loop (imported here:
        only detect's event loop reads this way, and not on a cold start's first event)."""
        from .async_http import AsyncHttpPool

        return AsyncHttpPool(self.url, ssl_context=self._tls, max_idle=self._max_idle)


def no_answer_error(method: str, path: str, err: NoAnswer) -> TemporaryError:
    """What a request the API server gave no answer to raises (retryable)."""
    return TemporaryError(f"{method} {path}: the API server did not answer ({err})")


def _with_query(path: str, query: Sequence[tuple[str, Any]]) -> str:
    return path + "?" + urlencode([(k, str(v)) for k, v in query], quote_via=quote) if query else path


def check_answer(answer: Answer, method: str, path: str) -> Answer:
    """``answer`` if 2xx, else the matching error is raised."""
    if 200 <= answer.status <= 299:
        return answer
    raise error_for_answer(answer.status, answer.reason, answer.headers, answer.data, method, path)


def decode_json(data: bytes, method: str, path: str) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError as err:
        raise APIError(502, f"{method} {path}: the API server answered with invalid JSON: {err}") from err
