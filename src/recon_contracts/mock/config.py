"""The mock's configuration."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .profiles import Profile, get_profile


@dataclass
class MockConfig:
    """How the mock behaves. Every field has a default.

    profile      name of a profile in ``PROFILES``
    seed         seeds the generated data set (same seed, same items)
    items        line items per data set (the unbilled current and previous periods, and each invoice)
    poll_count   polls of an export operation that answer notStarted/running before the terminal one
    retry_after  seconds sent as Retry-After on a running poll (an integer on the wire; 0 allowed)
    poll_seconds an operation also stays running until this many seconds have passed since the export
    blob_rows    JSON lines per exported blob (more line items make more blobs)
    export_rows  rows of every export (None: ``items``); generated lazily and streamed, so a million costs no memory
    """

    profile: str = "conforming"
    seed: int = 0
    items: int = 40
    poll_count: int = 2
    retry_after: float = 1
    poll_seconds: float = 0.0
    blob_rows: int = 5000
    export_rows: int | None = None

    def __post_init__(self) -> None:
        get_profile(self.profile)
        if self.items < 0:
            raise ValueError("items must be >= 0")
        if self.poll_count < 0:
            raise ValueError("poll_count must be >= 0")
        if self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        if self.export_rows is not None and self.export_rows < 0:
            raise ValueError("export_rows must be >= 0")
        if self.blob_rows < 1:
            raise ValueError("blob_rows must be >= 1")

    @property
    def profile_obj(self) -> Profile:
        return get_profile(self.profile)

    @property
    def retry_after_header(self) -> str:
        """Retry-After as sent on the wire: whole seconds, rounded up."""
        return str(math.ceil(self.retry_after))
