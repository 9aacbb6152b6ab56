"""`ECGRecord` → `ECGInput`: what the model sees (paper preprocessing, official `ecg_transform`).

Window (seconds from the recording start) → resample to 100 Hz (FFT like the paper, or polyphase) → per-lead
min-max to [-1, 1] over the whole window (flat lead → 0) → 12 canonical slots (missing lead = 0, mask False)
→ 10 s clips, the last one zero-padded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.signal

from anyecg.errors import LeadError, WindowError
from anyecg.io.record import ECGRecord
from anyecg.leads import CANONICAL_LEADS, LEAD_INDEX, N_LEADS, canonical_lead
from anyecg.timebase import CLIP_SAMPLES, MODEL_FS, n_clips, to_samples, to_seconds

Resample = Literal["fft", "poly"]
BLOCK_VALUES = 1 << 20  # samples (all leads) per read when scanning a file: 24 min of 2-lead 360 Hz
MAX_NAN_GAP_S = 0.5  # NaN runs up to this long are interpolated; longer runs are interpolated, then zeroed


@dataclass(frozen=True, eq=False)
class ECGInput:
    """One ECG as the model consumes it.

    clips: float32 [n_clips, 12, 1000] in [-1, 1]; lead_mask: bool [12] (False = lead missing or masked);
    n_samples: valid samples at 100 Hz (the rest of the last clip is zero padding);
    start_s: window start in seconds from the recording start; source: the file it came from; record: the record
    it was cut from (mV, its own rate), kept for the machine read of the same window (`anyecg.findings.findings_of`).
    """

    clips: np.ndarray
    lead_mask: np.ndarray
    n_samples: int
    start_s: float = 0.0
    source: str | None = None
    record: ECGRecord | None = field(default=None, repr=False)

    @property
    def n_clips(self) -> int:
        return int(self.clips.shape[0])

    @property
    def duration_s(self) -> float:
        return to_seconds(self.n_samples, MODEL_FS)

    @property
    def signal(self) -> np.ndarray:
        """The valid samples as one float32 [12, n_samples] array (100 Hz)."""
        return self.clips.transpose(1, 0, 2).reshape(N_LEADS, -1)[:, : self.n_samples]

    def clip_inputs(self) -> list[ECGInput]:
        """Each 10 s clip as an ECG of its own, in time order (scaling kept: it was done over the whole window)."""
        return [ECGInput(self.clips[k:k + 1], self.lead_mask, min(CLIP_SAMPLES, self.n_samples - k * CLIP_SAMPLES),
                         self.start_s + to_seconds(k * CLIP_SAMPLES, MODEL_FS), self.source, self.record)
                for k in range(self.n_clips)]


@dataclass(frozen=True, eq=False)
class ECGBatch:
    """Several ECGs of any lengths, clips stacked: clips [total, 12, 1000], lead_mask [total, 12],
    ecg_index [total] (which ECG each clip belongs to, clips in time order), n_clips [n_ecgs]."""

    clips: np.ndarray
    lead_mask: np.ndarray
    ecg_index: np.ndarray
    n_clips: np.ndarray


def batch(inputs: Sequence[ECGInput]) -> ECGBatch:
    """Stack the clips of several ECGs so one encoder pass can take them all."""
    counts = np.array([x.n_clips for x in inputs], dtype=np.int64)
    return ECGBatch(
        clips=np.concatenate([x.clips for x in inputs]),
        lead_mask=np.concatenate([np.broadcast_to(x.lead_mask, (x.n_clips, N_LEADS)) for x in inputs]),
        ecg_index=np.repeat(np.arange(len(inputs)), counts),
        n_clips=counts,
    )


def _slots(names: Sequence[str], what: str, source: object) -> set[str]:
    slots = set()
    for name in names:
        slot = canonical_lead(name)
        if slot is None:
            raise LeadError(f"{what} {name!r} is not a lead; use {', '.join(CANONICAL_LEADS)}", source)
        slots.add(slot)
    return slots


def window_samples(record: ECGRecord, start_s: float | None, end_s: float | None) -> tuple[int, int, float]:
    """Sample range [i0, i1) into record.signal and the window start in seconds from the recording start."""
    first, last = record.offset_s, record.offset_s + record.duration_s
    start = first if start_s is None else float(start_s)
    end = last if end_s is None else float(end_s)
    slack = max(1.0 / record.fs, 1.0 / MODEL_FS)  # rounding: one sample, native or at 100 Hz
    if not (first - slack <= start < end <= last + slack):
        raise WindowError(f"window {start:g}-{end:g} s lies outside the record ({first:g}-{last:g} s)"
                          if start < end else f"window start {start:g} s is not before its end {end:g} s",
                          record.source)
    i0 = max(to_samples(start, record.fs) - record.offset, 0)
    i1 = min(to_samples(end, record.fs) - record.offset, record.n_samples)
    return i0, i1, start


def _fill_nans(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Linearly interpolate NaN runs; also return where runs longer than MAX_NAN_GAP_S were (or None)."""
    bad = np.isnan(x)
    if not bad.any():
        return x, None
    idx = np.flatnonzero(~bad)
    filled = x.copy()
    filled[bad] = np.interp(np.flatnonzero(bad), idx, x[idx])
    edges = np.diff(np.concatenate(([0], bad.astype(np.int8), [0])))
    long_gap = np.zeros_like(bad)
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if b - a > MAX_NAN_GAP_S * fs:
            long_gap[a:b] = True
    return filled, long_gap if long_gap.any() else None


def _resample(x: np.ndarray, fs: float, n_out: int, method: Resample) -> np.ndarray:
    if fs == MODEL_FS:
        return x
    if method == "fft":
        return scipy.signal.resample(x, n_out, axis=-1)
    ratio = (Fraction(MODEL_FS) / Fraction(fs)).limit_denominator(1000)
    y = scipy.signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=-1)
    if y.shape[-1] < n_out:
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, n_out - y.shape[-1])], mode="edge")
    return y[..., :n_out]


def _minmax(x: np.ndarray) -> np.ndarray:
    """Per-lead min-max to [-1, 1] (official `ecg_transform`); a flat lead becomes 0."""
    lo, hi = x.min(axis=-1, keepdims=True), x.max(axis=-1, keepdims=True)
    span = hi - lo
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, np.clip((x - lo) / safe * 2.0 - 1.0, -1.0, 1.0), 0.0)


def preprocess(
    record: ECGRecord,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    leads: Sequence[str] | None = None,
    resample: Resample = "fft",
    mask_leads: Sequence[str] = (),
) -> ECGInput:
    """Turn a record (or the window [start_s, end_s) of it, seconds from the recording start) into model input.

    leads: keep only these (aliases accepted); mask_leads: zero these (ablations). An all-NaN lead counts as
    missing; NaN runs are interpolated (runs > MAX_NAN_GAP_S are then zeroed after scaling).
    Raises WindowError (outside the record, shorter than one 100 Hz sample) and LeadError (no lead left).
    """
    if resample not in ("fft", "poly"):
        raise ValueError(f"resample must be 'fft' or 'poly', got {resample!r}")
    i0, i1, start = window_samples(record, start_s, end_s)
    n_out = to_samples(to_seconds(i1 - i0, record.fs), MODEL_FS)
    if n_out < 1:
        raise WindowError(f"window of {to_seconds(i1 - i0, record.fs):g} s is shorter than one sample at {MODEL_FS} Hz",
                          record.source)
    keep = _slots(leads, "lead", record.source) if leads is not None else set(CANONICAL_LEADS)
    masked = _slots(mask_leads, "masked lead", record.source)
    rows = [r for r, name in enumerate(record.leads) if name in keep]
    if not rows:
        raise LeadError(f"lead selection {list(leads or [])} leaves no lead; the record has "
                        f"{', '.join(record.leads)}", record.source)

    total = n_clips(to_seconds(n_out, MODEL_FS)) * CLIP_SAMPLES
    out = np.zeros((N_LEADS, total), dtype=np.float32)
    mask = np.zeros(N_LEADS, dtype=bool)
    live: list[tuple[int, np.ndarray, np.ndarray | None]] = []  # (slot, filled lead, long NaN gaps)
    for r in rows:
        name = record.leads[r]
        x = record.signal[r, i0:i1]
        if name in masked or np.isnan(x).all():
            continue
        mask[LEAD_INDEX[name]] = True
        x, long_gap = _fill_nans(x, record.fs)
        if x.min() != x.max():  # a flat lead stays 0 (decided before resampling adds rounding noise)
            live.append((LEAD_INDEX[name], x, long_gap))
    if live:
        slots = [slot for slot, _, _ in live]
        out[slots, :n_out] = _minmax(_resample(np.stack([x for _, x, _ in live]), record.fs, n_out, resample))
        gaps = [(slot, long_gap) for slot, _, long_gap in live if long_gap is not None]
        if gaps:  # zero the 100 Hz samples that fall in long NaN runs
            native = np.minimum(np.round(np.arange(n_out) * record.fs / MODEL_FS).astype(np.int64), i1 - i0 - 1)
            for slot, long_gap in gaps:
                out[slot, :n_out][long_gap[native]] = 0.0
    clips = np.ascontiguousarray(out.reshape(N_LEADS, -1, CLIP_SAMPLES).transpose(1, 0, 2))
    source = str(record.source) if record.source is not None else None
    return ECGInput(clips=clips, lead_mask=mask, n_samples=n_out, start_s=start, source=source, record=record)


def preprocess_file(
    path: str | Path,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    leads: Sequence[str] | None = None,
    resample: Resample = "fft",
    mask_leads: Sequence[str] = (),
    lead_map: str | dict[str, str] | None = None,
    fs: float | None = None,
) -> ECGInput:
    """Read only the window of a file (bounded memory) and preprocess it."""
    from anyecg.io import read_record

    record = read_record(path, lead_map=lead_map, fs=fs, start_s=start_s, end_s=end_s, annotations=False)
    return preprocess(record, start_s=start_s, end_s=end_s, leads=leads, resample=resample,
                      mask_leads=mask_leads)


def _window_starts(duration_s: float, window_s: float, step_s: float) -> Iterator[tuple[float, float]]:
    if window_s <= 0 or step_s <= 0:
        raise WindowError(f"window ({window_s:g} s) and step ({step_s:g} s) must be > 0")
    start = 0.0
    while duration_s - start >= 1.0 / MODEL_FS:
        yield start, min(start + window_s, duration_s)
        start = round(start + step_s, 9)


def iter_windows(
    source: ECGRecord | str | Path,
    window_s: float,
    step_s: float | None = None,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
    **options,
) -> Iterator[ECGInput]:
    """Preprocess consecutive windows (the last one shorter) of a record or a file, from `start_s` to `end_s`
    (seconds from the recording start; default: all of it).

    With a path, the file is read in blocks of whole windows (`read_record(start_s=, end_s=)`, at most
    BLOCK_VALUES samples of all leads, about 20 MB at peak), so memory stays bounded however long the recording.
    `options` go to `preprocess` (leads, resample, mask_leads) and, for a path, to the reader (lead_map, fs).
    """
    step_s = window_s if step_s is None else step_s

    def spans(duration_s: float, first: float = 0.0) -> list[tuple[float, float]]:
        a0 = max(0.0, start_s or 0.0)
        a1 = min(duration_s, duration_s if end_s is None else end_s)
        return [(first + a0 + a, first + a0 + b) for a, b in _window_starts(max(0.0, a1 - a0), window_s, step_s)]

    if isinstance(source, ECGRecord):
        for a, b in spans(source.duration_s, source.offset_s):
            yield preprocess(source, start_s=a, end_s=b, **options)
        return
    from anyecg.io import read_info, read_record

    reader = {k: options.pop(k) for k in ("lead_map", "fs") if k in options}
    info = read_info(source, **reader)
    windows = spans(info.duration_s)
    block_s = max(window_s, BLOCK_VALUES / (max(len(info.leads), 1) * info.fs))
    k = 0
    while k < len(windows):
        j = k
        while j + 1 < len(windows) and windows[j + 1][1] - windows[k][0] <= block_s:
            j += 1
        record = read_record(source, start_s=windows[k][0], end_s=windows[j][1], annotations=False, **reader)
        for a, b in windows[k : j + 1]:
            yield preprocess(record, start_s=a, end_s=b, **options)
        k = j + 1
