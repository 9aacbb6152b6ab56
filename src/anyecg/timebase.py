"""Seconds <-> samples, clips and clocks. The one place where time is converted and written."""

from __future__ import annotations

import datetime as dt
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


def clock(seconds: float, start_time: dt.datetime | None = None, *, with_date: bool = False) -> str:
    """A time `seconds` after the recording start: wall clock when the start time is known (hh:mm:ss.s, or
    `YYYY-MM-DD hh:mm:ss` with the date), else elapsed time (`format_clock`)."""
    if start_time is None:
        return format_clock(seconds)
    t = start_time + dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%d %H:%M:%S") if with_date else t.strftime("%H:%M:%S.%f")[:-5]


DEFAULT_WINDOW_S = 10.0  # `scan` windows: the embedded model was trained on 10 s windows (longer: mostly "No")
MAX_WINDOW_S = 600.0  # longest window the model is asked about at once (60 clips; `scan`'s largest window)


def parse_time(text: str | float, start_time: dt.datetime | None = None) -> float:
    """Seconds from the recording start for a user's time: seconds (`90`, `5400.5`) or a clock time
    (`01:30:00`, `1:30`, `14:05:30.5`). A clock time is the time of day when the recording has a start time (its
    first occurrence at or after the start), else the time elapsed since the start. Raises ValueError."""
    if isinstance(text, int | float):
        return float(text)
    s = str(text).strip()
    if ":" not in s:
        return float(s)
    parts = s.split(":")
    if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
        raise ValueError(f"not a time: {text!r} (use seconds or hh:mm[:ss])")
    h, m, sec = (float(p) for p in (parts if len(parts) == 3 else [*parts, "0"]))
    seconds = h * 3600 + m * 60 + sec
    if start_time is None:
        return seconds
    since_midnight = start_time.hour * 3600 + start_time.minute * 60 + start_time.second + start_time.microsecond / 1e6
    return (seconds - since_midnight) % 86400
