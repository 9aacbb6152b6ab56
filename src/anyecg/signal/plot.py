"""Draw an ECG on ECG paper: 1 mm / 5 mm grid at 25 mm/s and 10 mm/mV, beat symbols, highlighted intervals.

Windows up to `MAX_TRUE_SCALE_S` are drawn at true paper scale in rows of `row_s` seconds (one strip per lead);
longer windows are squeezed into at most `MAX_ROWS` rows (time axis compressed, 1 mm lines dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from anyecg.atomic import atomic_path
from anyecg.errors import LeadError
from anyecg.io.record import ECGRecord
from anyecg.leads import CANONICAL_LEADS, canonical_lead
from anyecg.signal.intervals import BEAT_SYMBOLS, Interval
from anyecg.signal.preprocess import window_samples
from anyecg.timebase import format_clock, to_samples, to_seconds

MM = 1 / 25.4  # inches
PAPER_SPEED = 25.0  # mm/s
GAIN = 10.0  # mm/mV
MAX_TRUE_SCALE_S = 60.0
MAX_ROWS = 6
MARGIN_MM = {"left": 14.0, "right": 5.0, "top": 12.0, "bottom": 4.0, "row_gap": 9.0}
MARK_COLOR = "#1565c0"
Mark = tuple[float, str]  # (seconds from the window start, label)
Span = tuple[float, float, str]  # (start, end, label), seconds from the window start
GRID = {"minor": ("#f6c9c9", 0.35), "major": ("#e07b7b", 0.8)}


def _select(record: ECGRecord, leads: Sequence[str] | None) -> list[int]:
    if leads is None:
        return list(range(len(record.leads)))
    wanted = []
    for name in leads:
        slot = canonical_lead(name)
        if slot is None:
            raise LeadError(f"lead {name!r} is not a lead; use {', '.join(CANONICAL_LEADS)}", record.source)
        wanted.append(slot)
    rows = [record.leads.index(s) for s in wanted if s in record.leads]
    if not rows:
        raise LeadError(f"lead selection {list(leads)} leaves no lead; the record has {', '.join(record.leads)}",
                        record.source)
    return rows


MAX_STRIP_MV = 40.0  # a strip never spans more (a corrupt sample of 10^7 mV would ask for 10^7 grid lines)


def _ylim(x: np.ndarray) -> tuple[float, float]:
    """Limits on 0.5 mV lines around the whole strip, at least 2 mV and at most MAX_STRIP_MV tall (then centred
    on the median: outliers run off the strip)."""
    finite = x[np.isfinite(x)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 0.0)
    if hi - lo > MAX_STRIP_MV:
        centre = float(np.median(finite))
        lo, hi = centre - MAX_STRIP_MV / 2 + 0.2, centre + MAX_STRIP_MV / 2 - 0.2
    lo, hi = np.floor((lo - 0.2) * 2) / 2, np.ceil((hi + 0.2) * 2) / 2
    mid = (lo + hi) / 2
    half = max((hi - lo) / 2, 1.0)
    return float(mid - half), float(mid + half)


def _row_slice(row: int, row_s: float, duration: float, fs: float) -> slice:
    return slice(to_samples(row * row_s, fs), to_samples(min((row + 1) * row_s, duration), fs))


def _lines(lo: float, hi: float, step: float) -> np.ndarray:
    return np.arange(np.ceil(lo / step - 1e-9), np.floor(hi / step + 1e-9) + 1) * step


def _paper(ax, x0: float, x1: float, lo: float, hi: float, true_scale: bool, label_x: bool) -> None:
    """Grid lines as two line collections per direction (much faster than tick-based grids)."""
    for (dx, dy), (color, width) in (((0.04, 0.1), GRID["minor"]), ((0.2, 0.5), GRID["major"])):
        if dx < 0.2 and not true_scale:
            continue
        ax.vlines(_lines(x0, x1, dx), lo, hi, colors=color, linewidths=width, zorder=0)
        ax.hlines(_lines(lo, hi, dy), x0, x1, colors=color, linewidths=width, zorder=0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(lo, hi)
    ax.set_xticks(_lines(x0, x1, 1.0 if x1 - x0 <= 20 else 10.0))
    ax.set_yticks([])
    ax.tick_params(length=0, labelsize=7, labelbottom=label_x)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{round(v)}"))
    for spine in ax.spines.values():
        spine.set_visible(False)


def figure(
    record: ECGRecord,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    leads: Sequence[str] | None = None,
    highlight: Sequence[Interval] = (),
    marks: Sequence[Mark] = (),
    spans: Sequence[Span] = (),
    row_s: float = 10.0,
    title: str | None = None,
) -> Figure:
    """The ECG paper figure of a window (seconds from the recording start; x axis: seconds from window start).

    highlight: intervals in seconds from the window start (as in localization answers).
    marks: (time, label) points in seconds from the window start, drawn as thin lines on every strip with the
    label below the first one (e.g. wave onsets and offsets), only at true paper scale (a compressed window would
    be a wall of lines); spans: labelled (start, end, label) intervals (e.g. rhythm episodes), shaded with the
    label above the first strip.
    """
    i0, i1, start = window_samples(record, start_s, end_s)
    rows = _select(record, leads)
    duration = to_seconds(i1 - i0, record.fs)
    true_scale = duration <= MAX_TRUE_SCALE_S
    if not true_scale:
        row_s = duration / MAX_ROWS
    n_rows = max(1, int(np.ceil(duration / row_s - 1e-9)))
    t = np.arange(i1 - i0) / record.fs

    strips = []  # (time row, lead row, ylim)
    for r in range(n_rows):
        sel = _row_slice(r, row_s, duration, record.fs)
        strips += [(r, lead, _ylim(record.signal[lead, i0:i1][sel])) for lead in rows]
    heights = [(hi - lo) * GAIN for _, _, (lo, hi) in strips]
    width_mm = row_s * PAPER_SPEED if true_scale else 250.0
    fig_w = MARGIN_MM["left"] + width_mm + MARGIN_MM["right"]
    fig_h = MARGIN_MM["top"] + sum(heights) + n_rows * MARGIN_MM["row_gap"] + MARGIN_MM["bottom"]
    fig = Figure(figsize=(fig_w * MM, fig_h * MM), dpi=150)
    where = record.source.name if record.source is not None else "ECG"
    fig.suptitle(title or f"{where}  {format_clock(start)} + {duration:.1f} s   25 mm/s, 10 mm/mV"
                 + ("" if true_scale else "  (time compressed)"), fontsize=9, x=MARGIN_MM["left"] / fig_w, ha="left")

    beats = record.beats
    y_mm = fig_h - MARGIN_MM["top"]
    for k, ((r, lead, (lo, hi)), h) in enumerate(zip(strips, heights, strict=True)):
        y_mm -= h
        ax = fig.add_axes((MARGIN_MM["left"] / fig_w, y_mm / fig_h, width_mm / fig_w, h / fig_h))
        last_of_row = k + 1 == len(strips) or strips[k + 1][0] != r
        if last_of_row:
            y_mm -= MARGIN_MM["row_gap"]
        t0, t1 = r * row_s, (r + 1) * row_s
        _paper(ax, t0, t1, lo, hi, true_scale, label_x=last_of_row)
        sel = _row_slice(r, row_s, duration, record.fs)
        ax.plot(t[sel], record.signal[lead, i0:i1][sel], color="black", linewidth=0.6)
        ax.text(t0 + 0.02 * row_s, hi - 0.08 * (hi - lo), record.leads[lead], fontsize=8, va="top",
                fontweight="bold")
        for a, b in highlight:
            if b > t0 and a < t1:
                ax.axvspan(max(a, t0), min(b, t1), color="#ffd54f", alpha=0.35, zorder=0)
        for time_s, label in marks if true_scale else ():
            if t0 <= time_s < t1:
                ax.axvline(time_s, color=MARK_COLOR, linewidth=0.4, alpha=0.7, zorder=1)
                if lead == rows[0]:
                    ax.text(time_s, lo, label, fontsize=4, color=MARK_COLOR, ha="center", va="top", clip_on=False)
        for a, b, label in spans:
            if b > t0 and a < t1:
                ax.axvspan(max(a, t0), min(b, t1), color="#80cbc4", alpha=0.3, zorder=0)
                if lead == rows[0]:
                    ax.text(max(a, t0), hi, label, fontsize=6, color="#00695c", ha="left", va="bottom",
                            clip_on=False)
        if beats is not None and lead == rows[0]:
            in_row = np.flatnonzero((beats.sample >= record.offset + i0 + t0 * record.fs)
                                    & (beats.sample < record.offset + i0 + min(t1, duration) * record.fs))
            for j in in_row:
                symbol, aux = beats.symbol[j], beats.aux_note[j]
                label = symbol if symbol in BEAT_SYMBOLS else (aux or symbol)
                color = "#1f4e9c" if symbol == "N" else ("#c62828" if symbol in BEAT_SYMBOLS else "#616161")
                ax.text((beats.sample[j] - record.offset - i0) / record.fs, hi, label, fontsize=6, color=color,
                        ha="center", va="bottom", clip_on=False)
    return fig


def save_figure(fig: Figure, out: str | Path, **savefig: Any) -> Path:
    """Write atomically (`anyecg.atomic`); the format follows the suffix; `savefig`: e.g. dpi."""
    out = Path(out)
    fmt = out.suffix.lstrip(".").lower() or "png"
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt, **savefig)
    return out


def plot_record(record: ECGRecord, out: str | Path, **options) -> Path:
    """Draw `figure(record, **options)` into `out` (PNG, SVG, PDF ...)."""
    return save_figure(figure(record, **options), out)
