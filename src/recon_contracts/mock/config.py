"""The mock's configuration."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .drift import DriftSet, drift_of
from .knobs import SHORT_PAGE_CAP, Knobs
from .profiles import Profile, get_profile
from .transients import Transient

_VCHAR = frozenset(chr(c) for c in range(0x21, 0x7F))


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
    knobs        knob values on top of the profile's (``--knob NAME=VALUE``; register answers only)
    drift        drift on top of the profile's (``--drift NAME``; ``drift.py``)
    page_cap     page_fill=short: the most items a page holds, whatever size asks (at or below size)
    token_filler continuation tokens start with this text (any length, any visible ASCII: tokens are opaque)
    transients   429/503/500 answers at chosen steps (``transients.py``)
    """

    profile: str = "conforming"
    seed: int = 0
    items: int = 40
    poll_count: int = 2
    retry_after: float = 1
    poll_seconds: float = 0.0
    blob_rows: int = 5000
    export_rows: int | None = None
    knobs: dict[str, str] = field(default_factory=dict)
    drift: tuple[str, ...] = ()
    page_cap: int = SHORT_PAGE_CAP
    token_filler: str = ""
    transients: tuple[Transient, ...] = ()

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
        if self.page_cap < 1:
            raise ValueError("page_cap must be >= 1")
        if not set(self.token_filler) <= _VCHAR:
            raise ValueError("token_filler must be visible ASCII (a header value without spaces)")
        self.profile_obj.knobs.with_(**self.knobs)  # unknown knobs and values fail here
        drift_of(self.drift)  # unknown drift fails here

    @property
    def profile_obj(self) -> Profile:
        return get_profile(self.profile)

    @property
    def effective_knobs(self) -> Knobs:
        """The profile's knobs with ``knobs`` set on top."""
        base = self.profile_obj.knobs
        return base.with_(**self.knobs) if self.knobs else base

    @property
    def effective_drift(self) -> DriftSet:
        return self.profile_obj.drift | drift_of(self.drift)

    @property
    def retry_after_header(self) -> str:
        """Retry-After as sent on the wire: whole seconds, rounded up."""
        return str(math.ceil(self.retry_after))
