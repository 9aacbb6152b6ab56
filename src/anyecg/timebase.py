"""Seconds <-> samples. The one place where time is converted."""

from __future__ import annotations

import math

from anyecg.errors import WindowError

MODEL_FS = 100  # Hz: what the model sees (paper)
CLIP_SECONDS = 10  # one encoder clip
CLIP_SAMPLES = MODEL_FS * CLIP_SECONDS  # 1000
PATCH_SAMPLES = 200  # 1 lead x 2 s patch
PATCHES_PER_LEAD = CLIP_SAMPLES // PATCH_SAMPLES  # 5


def to_samples(seconds: float, fs: float) -> int:
    """Sample index of a time in seconds (nearest sample); WindowError when it is not a finite number."""
    index = seconds * fs
    if not math.isfinite(index):
        raise WindowError(f"{seconds:g} s at {fs:g} Hz is no sample index")
    return round(index)


def to_seconds(samples: int | float, fs: float) -> float:
    return float(samples) / fs


def n_clips(duration_s: float) -> int:
    """How many 10 s clips a window of this duration needs (the last one zero-padded)."""
    return max(1, math.ceil(round(duration_s * MODEL_FS) / CLIP_SAMPLES))


def format_clock(seconds: float) -> str:
    """hh:mm:ss.s for absolute times in long recordings."""
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:04.1f}"


DEFAULT_WINDOW_S = 10.0  # `scan` windows: the embedded model was trained on 10 s windows (longer: mostly "No")
MAX_WINDOW_S = 600.0  # longest window the model is asked about at once (60 clips; `scan`'s largest window)
