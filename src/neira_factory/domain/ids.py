"""Node and organ identifiers: `kind.namespace.name[.vN]`, and the route they serve."""
from __future__ import annotations

import re

ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_\-]*)+$")
VERSION_SUFFIX_RE = re.compile(r"\.v(\d+)$")
MAX_ID_LEN = 200


def is_valid_id(value: str) -> bool:
    return len(value) <= MAX_ID_LEN and ID_RE.match(value) is not None


def route_of(node_id: str) -> str:
    """The route a node id serves: the id without its `.vN` suffix."""
    return VERSION_SUFFIX_RE.sub("", node_id)


def version_number(node_id: str) -> int | None:
    """The N of a `.vN` suffix, or None."""
    m = VERSION_SUFFIX_RE.search(node_id)
    return int(m.group(1)) if m else None
