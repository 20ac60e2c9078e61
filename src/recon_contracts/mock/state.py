"""What the running mock remembers: counters for the transient profiles, operations, manifests, blobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .config import MockConfig
from .drift import Drift, DriftSet
from .knobs import THOUSANDS, Knobs
from .segment_cache import SegmentCache
from .tokens import TokenCodec
from .transients import Transient


@dataclass
class Operation:
    id: str
    created: datetime
    last_action: datetime
    dataset: str | None  # data set key, None when nothing can be exported
    currency: str
    attribute_set: str
    invoice_id: str | None
    started: float = 0.0
    kind: str = "billed-reconciliation"  # the export family member (recon_contracts.truth.exports.KINDS)  # time.monotonic() of the export
    polls: int = 0
    status: str = "notStarted"
    terminal_polls: int = 0  # polls answered with a terminal state
    manifest_id: str | None = None


@dataclass
class Manifest:
    id: str
    body: dict  # the manifest resource, without @odata.context
    root_path: str  # rootDirectory's path on this server
    sig: str  # the sasToken's sig (decoded)
    dataset: str
    currency: str
    attribute_set: str
    count: int
    blob_names: tuple[str, ...]
    blob_rows: int = 5000  # rows per blob (the last one may hold fewer)
    kind: str = "billed-reconciliation"  # the export family member whose rows the blobs hold
    period: int = 4096  # distinct rows: row i repeats row i % period (the whole count when it fits)


@dataclass
class MockState:
    config: MockConfig
    tokens: TokenCodec = field(init=False)
    pc_requests: int = 0  # every request under /v1
    pc_authorised: int = 0  # authenticated requests under /v1 (throttled counts these)
    graph_requests: int = 0
    graph_polls: int = 0
    query_by_fingerprint: dict[bytes, dict[str, str]] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    manifests: dict[str, Manifest] = field(default_factory=dict)
    blobs: dict[str, tuple[str, int]] = field(default_factory=dict)  # blob path -> (manifest id, blob index)

    def __post_init__(self) -> None:
        self.tokens = TokenCodec(self.config.seed, self.config.token_filler)
        self.segments = SegmentCache()
        self.profile = self.config.profile
        self.knobs: Knobs = self.config.effective_knobs
        self.drift: DriftSet = self.config.effective_drift
        self.step_hits: dict[str, int] = {}

    def drifts(self, *drift: Drift) -> bool:
        """Whether the mock serves any of ``drift``."""
        return not self.drift.isdisjoint(drift)

    def transient(self, step: str) -> Transient | None:
        """The transient answer due at this request of ``step`` (counts the request), or None: serve it."""
        if not self.config.transients:
            return None
        hits = self.step_hits[step] = self.step_hits.get(step, 0) + 1
        return next((t for t in self.config.transients if t.step == step and hits <= t.times), None)

    @property
    def items(self) -> int:
        """Line items per data set: the configured number, unless the profile sets the data volume."""
        volume = self.knobs.data_volume
        return 0 if volume == "none" else THOUSANDS if volume == "thousands" else self.config.items
