"""Copying the JSON documents the store keeps.

Every read from the store returns a copy and every write stores one, so callers can never mutate
stored state by accident. The store's parts (CRUD, watches, deletion, pod subresources) all copy
the same way, so the copy lives here rather than in any one of them.
"""

from __future__ import annotations

import json
from typing import Any

from . import status as st

__all__ = ["clone_document"]


def clone_document(obj: Any) -> Any:
    """A deep copy of a JSON document (several times faster than copy.deepcopy for JSON).
    Anything that is not JSON (a datetime from a YAML fixture, say) is a bad request."""
    try:
        return json.loads(json.dumps(obj))
    except (TypeError, ValueError) as err:
        raise st.bad_request(f"the object is not a JSON document: {err}") from None
