"""The Cluster port's reads as coroutines on the event loop.

Why: detect decides on its event loop and reads owners and Events from the API. Reading from a
worker thread while the loop is busy with other requests costs each blocking call a GIL hand-over
(see :mod:`.async_http`); reading on the loop costs none. Only reads: every write stays with
:class:`~.kubernetes.KubernetesCluster` in a worker thread, where its retries and
compare-and-swap loops live.

Same REST paths, answers and errors as :meth:`KubernetesCluster.get` and
:meth:`KubernetesCluster.list`: a non-2xx answer raises the most specific
:mod:`kubeskippy.errors` API error, no answer a :class:`~kubeskippy.errors.TemporaryError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .http_pool import NoAnswer
from .kubernetes_http import ApiServerConnection, check_answer, decode_json, no_answer_error

if TYPE_CHECKING:
    from .kubernetes import KubernetesCluster

__all__ = ["LoopReads"]


class LoopReads:
    """``get`` and ``list`` of one :class:`KubernetesCluster`, awaited on one event loop."""

    def __init__(self, cluster: "KubernetesCluster", connection: ApiServerConnection) -> None:
        self._cluster = cluster
        self._connection = connection
        self._pool = connection.async_pool()

    async def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
        return await self._json(self._cluster.request_path(api_version, kind, namespace, name))

    async def list(self, api_version: str, kind: str, namespace: str | None = None,
                   label_selector: str | None = None, field_selector: str | None = None) -> list[dict]:
        from .kubernetes import list_items, list_query

        answer = await self._json(self._cluster.request_path(api_version, kind, namespace),
                                  list_query(label_selector, field_selector))
        return list_items(answer, api_version, kind)

    def close(self) -> None:
        self._pool.close()

    async def _json(self, path: str, query: Sequence[tuple[str, Any]] = ()) -> Any:
        headers = self._connection.headers("GET", path, "application/json")
        try:
            answer = await self._pool.request("GET", self._connection.target(path, query), headers=headers,
                                              timeout=self._cluster.request_timeout)
        except NoAnswer as err:
            raise no_answer_error("GET", path, err) from (err.__cause__ or err)
        check_answer(answer, "GET", path)
        return decode_json(answer.data, "GET", path)
