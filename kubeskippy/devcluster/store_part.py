"""What the parts of ObjectStore may use of it: the one contract between the store and its mixins.

ObjectStore is composed of mixins (:mod:`.watch`, :mod:`.deletion`, :mod:`.pod_subresources`) so
that their methods read the store's state with no forwarding call in between. The price of a
mixin is that what it relies on is not visible in its own module; this base states it once, for
readers and type checkers alike. It holds no behaviour: ObjectStore creates the state in its
``__init__`` and defines the methods; a part declares beside itself only the state it alone uses.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..clock import Clock
from ..kinds import KindInfo

if TYPE_CHECKING:
    from .watch import WatchFilter

__all__ = ["StorePart"]


class StorePart:
    """Base of the store's mixins: the shared state and write primitives, declared, not defined."""

    clock: Clock
    _lock: threading.RLock  # held by every operation
    _revision: int  # the last resourceVersion handed out
    _kinds: dict[tuple[str, str], KindInfo]  # (apiVersion, kind) -> served kind
    _objects: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]]  # kind -> (namespace, name) -> object
    _dependents_by_owner: dict[str, set[tuple[tuple[str, str], tuple[str, str]]]]  # owner uid -> (kind, key)

    if TYPE_CHECKING:
        def kind(self, api_version: str | None, kind: str | None) -> KindInfo: ...

        def compile_filter(self, api_version: str, kind: str, namespace: str | None = None,
                           label_selector: str | None = None, field_selector: str | None = None) -> WatchFilter: ...

        def _bucket(self, info: KindInfo) -> dict[tuple[str, str], dict[str, Any]]: ...

        def _stored(self, info: KindInfo, name: str, namespace: str | None) -> dict[str, Any]: ...

        def _commit(self, event_type: str, new: dict[str, Any] | None,
                    old: dict[str, Any] | None) -> dict[str, Any]: ...
