"""A synchronous decision that reads the cluster, run on the event loop with reads awaited there.

Why: the decision core is synchronous and reads through the Cluster port, so a function runs it
in a worker thread. detect's decisions are mostly dismissals that read nothing, and the rest read
a few owners; run in a worker thread, each of those reads waited for the busy event loop's thread
to hand back the GIL, which put detect's p99 at 2.3–3.6× the bare echo's on an idle machine
(docs/functions.md, "Session 5"). Here the decision runs on the loop against
:class:`ReplayedReads`, which answers from the reads made so far and raises :class:`ReadNeeded`
for a new one; the caller awaits that read on the loop and runs the decision again from the
start. The decision must be pure apart from its reads (detect's is), so a re-run with one more
answer is the same computation a step further. A read that failed is an answer too: its error
is raised again at the same point of every re-run, as the synchronous read would have raised it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Protocol, Sequence, TypeVar

from ..errors import KubeSkippyError
from ..jsoncopy import copy_json

__all__ = ["ReadNeeded", "ReplayedReads", "AsyncReads", "decide_reading_on_loop", "read", "replay_fanout",
           "NOT_DECIDED"]

T = TypeVar("T")
ReadKey = tuple[Any, ...]
"""``("get", api_version, kind, name, namespace)`` or
``("list", api_version, kind, namespace, label_selector, field_selector)``."""

NOT_DECIDED: Any = object()
"""What :func:`decide_reading_on_loop` returns when the decision wanted more reads than allowed."""


class ReadNeeded(Exception):
    """The decision needs reads it has no answer for yet (not an error: a request to read).
    ``keys``: one read, or several independent ones a fan-out asked for at once."""

    def __init__(self, key: ReadKey, *more: ReadKey) -> None:
        super().__init__(key, *more)
        self.keys = (key, *more)

    @property
    def key(self) -> ReadKey:
        """The first read asked for."""
        return self.keys[0]


def replay_fanout(calls: Sequence[Callable[[], Any]]) -> list:
    """The Fanout port for a decision on :class:`ReplayedReads`: runs each call, and when some need
    reads, asks for all of them at once (the loop then awaits them together), as a thread fan-out
    makes independent reads in one round. The first other error, in call order, is raised."""
    results: list = []
    needed: list[ReadKey] = []
    for call in calls:
        try:
            results.append(call())
        except ReadNeeded as need:
            needed.extend(k for k in need.keys if k not in needed)
    if needed:
        raise ReadNeeded(*needed)
    return results


class AsyncReads(Protocol):
    async def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict: ...

    async def list(self, api_version: str, kind: str, namespace: str | None = None,
                   label_selector: str | None = None, field_selector: str | None = None) -> list[dict]: ...


class ReplayedReads:
    """The Cluster port's reads answered from ``answers`` (each a fresh copy, as the API hands out
    new objects); anything else raises. Writes are not reads: asking for one is a programming
    error, reported as such."""

    def __init__(self, answers: dict[ReadKey, Any]) -> None:
        self._answers = answers

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict:
        return self._answer(("get", api_version, kind, name, namespace or None))

    def list(self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        return self._answer(("list", api_version, kind, namespace or None, label_selector or None,
                             field_selector or None))

    def _answer(self, key: ReadKey) -> Any:
        if key not in self._answers:
            raise ReadNeeded(key)
        answer = self._answers[key]
        if isinstance(answer, KubeSkippyError):
            raise answer
        return copy_json(answer)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"ReplayedReads answers get and list only; {name!r} is not a read")


async def read(reads: AsyncReads, key: ReadKey) -> Any:
    """The answer to one read: the object or list, or the KubeSkippyError the read raised."""
    try:
        if key[0] == "get":
            return await reads.get(*key[1:])
        return await reads.list(key[1], key[2], key[3], label_selector=key[4], field_selector=key[5])
    except KubeSkippyError as err:
        return err


async def decide_reading_on_loop(decide: Callable[[ReplayedReads], T], reads: AsyncReads | None, *,
                                 max_reads: int) -> T:
    """``decide(cluster)`` with every read it makes awaited on the loop; :data:`NOT_DECIDED` when
    it needs more than ``max_reads`` reads, or any read while ``reads`` is None (then decide it in
    a worker thread with a synchronous cluster)."""
    answers: dict[ReadKey, Any] = {}
    while True:
        try:
            return decide(ReplayedReads(answers))
        except ReadNeeded as need:
            keys = [k for k in need.keys if k not in answers]
            if reads is None or len(answers) + len(keys) > max_reads:
                return NOT_DECIDED
            found = await asyncio.gather(*(read(reads, k) for k in keys))
            answers.update(zip(keys, found))
