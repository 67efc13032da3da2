"""The official ``kubernetes`` client as a transport for :class:`~kubeskippy.adapters.kubernetes.KubernetesCluster`.

Used for kubeconfigs (the CLI and laptops: exec plugins, auth providers and proxies are the
official loader's job) and whenever a caller hands the adapter a ``kubernetes.client.ApiClient``
(tests, benchmarks, ``kubeskippy dev``). Requests go through the client's raw
``param_serialize`` / ``call_api`` (no model classes: objects stay plain dicts), which needs
openapi-generator 7 style clients (kubernetes >= 35). Importing this module imports ``kubernetes``;
the functions' in-cluster path never does (see :mod:`kubeskippy.adapters.kubernetes_http`).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import urllib3
from kubernetes.client.exceptions import ApiException

from ..errors import TemporaryError
from .kubernetes_http import Answer, Timeout, error_for_answer

__all__ = ["OfficialClientTransport", "client_from_kubeconfig"]


class OfficialClientTransport:
    """``send`` over a ``kubernetes.client.ApiClient``; errors chain the client's exception."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client

    def send(self, method: str, path: str, *, query: Sequence[tuple[str, Any]] = (), body: Any = None,
             content_type: str | None = None, accept: str = "application/json",
             timeout: Timeout = (5.0, 30.0)) -> Answer:
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            serialized = self.api_client.param_serialize(
                method=method, resource_path=path, query_params=list(query), header_params=headers,
                body=body, auth_settings=["BearerToken"])
            response = self.api_client.call_api(*serialized, _request_timeout=timeout)
            data = response.read()
            if not 200 <= response.status <= 299:
                ApiException.from_response(http_resp=response, body=data.decode("utf-8", "replace"), data=None)
        except ApiException as err:
            raise error_for_answer(err.status, err.reason, err.headers, err.body, method, path) from err
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise TemporaryError(f"{method} {path}: the API server did not answer ({type(err).__name__}: {err})") \
                from err
        return Answer(response.status, response.reason or "", response.headers, data)

    def close(self) -> None:
        self.api_client.close()


def client_from_kubeconfig(kubeconfig: str | None = None, context: str | None = None) -> Any:
    """A ``kubernetes.client.ApiClient`` from a kubeconfig (``kubeconfig`` path, ``$KUBECONFIG``
    or ``~/.kube/config``) and its ``context``."""
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config

    configuration = k8s_client.Configuration()
    # the client reads $KUBECONFIG once at import; read it now so the current value counts
    k8s_config.load_kube_config(config_file=kubeconfig or os.environ.get("KUBECONFIG"), context=context,
                                client_configuration=configuration)
    return k8s_client.ApiClient(configuration)
