"""Shared fixtures: the real data folder `../shared/data` (tests skip when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hypothesis import settings

# Hypothesis' per-example deadline turns a busy machine into failures; the tests bound their sizes instead.
settings.register_profile("anyecg", deadline=None)
settings.load_profile("anyecg")

# Tests run small models: one torch thread is faster than two fighting over a busy 2-core machine.
torch.set_num_threads(1)

# ANYECG_SHARED_DATA points elsewhere (e.g. from a git worktree that is not beside shared/).
SHARED_DATA = Path(os.environ.get("ANYECG_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` beside the repository (real ECG databases); skip when it is not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real ECG data not found at {SHARED_DATA} (clone beside a shared/ folder to run)")
    return SHARED_DATA
