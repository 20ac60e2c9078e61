"""A small LRU cache of compressed blob segments (the mock's state holds one; ``blobs.py`` fills it).

It knows nothing of manifests or rows: a key and a way to build the value. So the state does not import the
blob server, and the blob server imports the state only.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

CACHE_SEGMENTS = 64


class SegmentCache:
    """(deflate bytes, raw rows) per key, the least recently used dropped past ``size`` entries."""

    def __init__(self, size: int = CACHE_SEGMENTS) -> None:
        self._cache: OrderedDict[Hashable, tuple[bytes, bytes]] = OrderedDict()
        self._size = size

    def get(self, key: Hashable, build: Callable[[], tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        value = build()
        self._cache[key] = value
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return value
