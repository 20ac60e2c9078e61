"""Transient errors at a chosen step: where a docs-following server may answer 429 or 503 (or storage 500) once.

The register's throttling and transient-5xx points (``SP-PC-THROTTLING``, ``SP-PC-TRANSIENT-5XX``) say a server
may answer 429 or 503 now and then; a ``Transient`` places one such answer at a step of the flow, with or
without Retry-After (RFC 9110 §10.2.3 makes the header optional on both statuses). On blob downloads Azure
Storage also answers 500 (OperationTimedOut, InternalError) and 503 ServerBusy, both documented as retryable
("Blob Storage error codes", "Azure Storage retry guidance"). Each transient answers ``times`` requests of its
step, then the step is served.

On the mock's command line: ``--transient STEP:STATUS[:no-retry-after][:xN]``, e.g. ``blob:500:no-retry-after``.
"""

from __future__ import annotations

from dataclasses import dataclass

# the steps of the flow a transient can hit
STEPS = ("pc-first", "pc-next", "gr-export", "gr-poll", "gr-manifest", "blob")
STATUSES = {step: (429, 503) for step in STEPS} | {"blob": (429, 500, 503)}


@dataclass(frozen=True)
class Transient:
    step: str
    status: int
    retry_after: bool = True
    times: int = 1

    def __post_init__(self) -> None:
        if self.step not in STEPS:
            raise ValueError(f"transient step {self.step!r} is not one of {', '.join(STEPS)}")
        if self.status not in STATUSES[self.step]:
            raise ValueError(f"transient {self.step}: status {self.status} is not one of "
                             f"{', '.join(map(str, STATUSES[self.step]))}")
        if not 1 <= self.times <= 10:
            raise ValueError(f"transient {self.step}: times must be 1 to 10")

    def spec(self) -> str:
        return (f"{self.step}:{self.status}" + ("" if self.retry_after else ":no-retry-after")
                + (f":x{self.times}" if self.times != 1 else ""))

    @classmethod
    def parse(cls, text: str) -> Transient:
        parts = text.strip().split(":")
        if len(parts) < 2 or not parts[1].isdigit():
            raise ValueError(f"--transient {text!r}: expected STEP:STATUS[:no-retry-after][:xN]")
        retry_after, times = True, 1
        for extra in parts[2:]:
            if extra == "no-retry-after":
                retry_after = False
            elif extra.startswith("x") and extra[1:].isdigit():
                times = int(extra[1:])
            else:
                raise ValueError(f"--transient {text!r}: {extra!r} is neither no-retry-after nor xN")
        return cls(parts[0], int(parts[1]), retry_after, times)
