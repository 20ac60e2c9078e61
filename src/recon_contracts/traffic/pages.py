"""The pages of one paging walk, held on disk: a walk of any length is bounded in memory.

A large tenant's walk (hundreds of thousands of line items, hundreds of pages of 2000) must not be
held in memory, nor be cut by a guessed page budget. :class:`PageStore` is a ``Sequence[Exchange]``:
each page's exchange is kept without its body, and the body goes to an anonymous temporary file
(deleted when the store is), read back whenever a check looks at the page. Only the most recent
body read stays in memory. Loop evidence (repeated pages, repeated tokens) is kept as digests.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, overload

from ..findings import Exchange


def digest(text: str | bytes) -> bytes:
    """A 16-byte digest: what a walk keeps of a page or a token to prove that it repeats."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text,
                           digest_size=16).digest()


class PageStore(Sequence[Exchange]):
    """A walk's pages in the order fetched; bodies on disk, at most one body in memory."""

    def __init__(self) -> None:
        self._heads: list[Exchange] = []
        self._spans: list[tuple[int, int]] = []
        self._file = tempfile.TemporaryFile(prefix="recon-walk-")
        self._size = 0
        self._lock = threading.Lock()
        self._cached: tuple[int, Exchange] | None = None
        self.item_counts: list[int] = []  # items per page, as the walk counted them

    def append(self, exchange: Exchange, items: int = 0) -> None:
        body = exchange.response_body
        with self._lock:
            self._file.seek(self._size)
            self._file.write(body)
            self._spans.append((self._size, len(body)))
            self._size += len(body)
            self._heads.append(replace(exchange, response_body=b""))
            self._cached = (len(self._heads) - 1, exchange)
        self.item_counts.append(items)

    def __len__(self) -> int:
        return len(self._heads)

    @overload
    def __getitem__(self, index: int) -> Exchange: ...

    @overload
    def __getitem__(self, index: slice) -> list[Exchange]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        with self._lock:
            if self._cached is not None and self._cached[0] == index:
                return self._cached[1]
            start, length = self._spans[index]
            self._file.seek(start)
            exchange = replace(self._heads[index], response_body=self._file.read(length))
            self._cached = (index, exchange)
            return exchange

    def __iter__(self) -> Iterator[Exchange]:
        for index in range(len(self)):
            yield self[index]

    def memory_bytes(self) -> int:
        """The bytes of bodies held in memory (at most one page's)."""
        return len(self._cached[1].response_body) if self._cached else 0

    def disk_bytes(self) -> int:
        return self._size

    def close(self) -> None:
        self._file.close()

    def __del__(self) -> None:
        try:
            self._file.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
