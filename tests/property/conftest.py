"""Hypothesis profiles for the property tests.

``ci`` (selected when the ``CI`` environment variable is set) runs 10,000
examples per property, as the hardening issue requires; ``dev`` runs 1,000 so
a local run stays quick. Neither writes an example database into the tree.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=10_000, deadline=None, database=None, derandomize=False,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=1_000, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("LIANG_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
