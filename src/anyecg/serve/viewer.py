"""What the web page draws: a stored ECG's signal, downsampled to screen size, and its ECG-paper PNG."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from anyecg.io import read_record
from anyecg.serve.errors import APIError
from anyecg.serve.store import StoredFile
from anyecg.signal.intervals import Interval

MAX_VIEW_S = 3600.0  # longest window the signal endpoint returns at once
MAX_PLOT_S = 600.0  # longest window drawn as a PNG


def _window(entry: StoredFile, start_s: float, end_s: float | None, limit: float) -> tuple[float, float]:
    total = float(entry.ecg["duration_s"])
    end = total if end_s is None else min(end_s, total)
    if start_s < 0 or start_s >= total or end <= start_s:
        raise APIError(422, f"window {start_s:g}-{end:g} s is outside the recording (0-{total:g} s)",
                       "invalid_window")
    if end - start_s > limit:
        raise APIError(422, f"window of {end - start_s:g} s is longer than {limit:g} s; ask for a shorter one",
                       "invalid_window")
    return start_s, end


def signal_json(entry: StoredFile, start_s: float = 0.0, end_s: float | None = None,
                points: int = 2000) -> dict[str, Any]:
    """Per lead at most `points` values (mV): the raw samples, or per bucket its min and max (spikes kept)."""
    start, end = _window(entry, start_s, end_s, MAX_VIEW_S)
    record = read_record(entry.path, start_s=start, end_s=end, annotations=False)
    x = record.signal  # [n_leads, n]
    n = x.shape[1]
    if n > points:
        buckets = points // 2
        edges = np.linspace(0, n, buckets + 1).astype(int)
        lo = np.minimum.reduceat(x, edges[:-1], axis=1)
        hi = np.maximum.reduceat(x, edges[:-1], axis=1)
        x = np.stack([lo, hi], axis=2).reshape(x.shape[0], -1)  # min, max, min, max ...
    dt = (end - start) / x.shape[1]
    values = [[None if not np.isfinite(v) else round(float(v), 3) for v in row] for row in x]
    return {"file_id": entry.id, "start_s": start, "end_s": end, "duration_s": entry.ecg["duration_s"],
            "fs": record.fs, "dt": dt, "leads": list(record.leads), "values": values,
            "start_time": entry.ecg.get("start_time")}


def parse_highlight(text: str | None) -> list[Interval]:
    """`1.9-3.1,6.8-8.1` → [(1.9, 3.1), (6.8, 8.1)] (seconds from the window start)."""
    out: list[Interval] = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        try:
            a, b = (float(v) for v in part.split("-", 1))
        except ValueError as err:
            raise APIError(400, f"highlight {part!r} is not START-END in seconds (e.g. 1.9-3.1)") from err
        out.append((min(a, b), max(a, b)))
    return out


def plot_png(entry: StoredFile, start_s: float = 0.0, end_s: float | None = None,
             leads: Sequence[str] | None = None, highlight: Sequence[Interval] = ()) -> bytes:
    """The window on ECG paper (25 mm/s, 10 mm/mV) with the highlighted intervals, as PNG bytes."""
    from anyecg.signal.plot import figure

    start, end = _window(entry, start_s, end_s, MAX_PLOT_S)
    record = read_record(entry.path, start_s=start, end_s=end)
    fig = figure(record, start_s=start, end_s=end, leads=leads, highlight=highlight,
                 title=f"{entry.filename}  {start:g}-{end:g} s   25 mm/s, 10 mm/mV")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
