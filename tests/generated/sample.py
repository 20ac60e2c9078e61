"""How many generated servers a run samples, and from which seed (small in CI, thousands when marked slow).

``RECON_GENERATED_SEED`` (default 0) and ``RECON_GENERATED_N`` (default 60) choose the sample; a failure prints
the smallest combination of freedoms Hypothesis shrank it to, and the seed that reproduces it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SEED = int(os.environ.get("RECON_GENERATED_SEED", "0"))
N = int(os.environ.get("RECON_GENERATED_N", "60"))
SLOW_N = int(os.environ.get("RECON_GENERATED_SLOW_N", "2000"))

settings.register_profile("generated", max_examples=N, deadline=None, derandomize=False, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
