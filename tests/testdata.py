"""The third-party test vectors in ``../shared/testdata/`` (beside the clone), never copied into the project.

A test that needs them calls :func:`shared_testdata`: a missing file or folder *fails* that test
with a message that says where it looked and how to point elsewhere. It never skips, so a run
without the vectors cannot come out green.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = "LIANG_SHARED_TESTDATA"


def testdata_root() -> Path:
    """Return the shared test-data folder: ``$LIANG_SHARED_TESTDATA``, else ``../shared/testdata``."""
    override = os.environ.get(ENV)
    return Path(override) if override else ROOT.parent / "shared" / "testdata"


def shared_testdata(relative: str) -> Path:
    """Return ``relative`` inside the shared test data; fail the calling test when it is not there."""
    path = testdata_root() / relative
    if not path.exists():
        pytest.fail(f"shared test data missing: {path} (the third-party vectors live in ../shared/testdata "
                    f"beside the repository; restore them there or set {ENV} to their folder)", pytrace=False)
    return path
