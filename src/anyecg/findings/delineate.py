"""P, QRS and T onsets, peaks and offsets: on the median beat of all leads together, as carts measure.

How (thresholds in `Params`, tuned on LUDB records 1-120 only, paced records left out; see docs/findings.md):
1. Each beat's alignment point: the peak of the spatial velocity (root sum of squared slopes over the usable
   leads, after a 0.5-40 Hz band-pass) within ±60 ms of its detection.
2. The median beat (template) of the dominant beats (QRS correlation ≥ `dominant_corr` with a first median),
   from at most `MAX_SEGMENTS` pieces of `SEGMENT_S` spread over the ECG (bounded memory for long records).
3. QRS onset / offset per lead: walking out from the QRS, where the lead's slope stays under `qrs_level` of its
   QRS peak slope for `gap_s`. Global: an early onset (the 1 - `qrs_quantile` quantile of the leads' onsets) and
   a late offset (the `qrs_quantile` quantile of their offsets): leads that start early or end late count, as
   carts take the earliest onset / latest offset, but a lone outlying lead does not.
4. Isoelectric level of each lead: the mean of the 10 ms before the global QRS onset (PR segment).
5. T: the peak of the spatial magnitude (root sum of squares of the baseline-corrected leads) from 60 ms after the
   QRS to before the next P (and at most a QTc of `qtc_max_s`); its end where the steepest downslope's tangent
   meets the magnitude's floor (tangent method), plus `t_off_shift_s`.
6. P: in the `p_window_s` before the QRS (after the previous T), each lead's line from its TP to its PR level
   removed, the peak of the spatial magnitude; onset / offset where it falls to `p_level` of the way from the
   floor on that side to the peak. Present when the dominant beats' P segments correlate with the median beat's
   (median r ≥ `p_corr`) and the P peak is ≥ `p_min_rel` of the QRS magnitude (none in AF, most paced beats).
7. Per beat: the template's offsets from R placed at each beat's alignment point; beats seen to differ from the
   median beat (not dominant: ectopic, aberrant) get their own QRS onset / offset and no P.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import butter, sosfiltfilt

from anyecg.findings.types import Waves
from anyecg.signal.beats import usable_leads

SEGMENT_S = 10.0
MAX_SEGMENTS = 30  # at most 300 s of signal go into the median beat
PAD_S = 1.0  # filter padding on each side of a segment
ALIGN_REFINE_S = 0.02  # alignment: the velocity peak, then the best QRS correlation within ± this
MIN_P_BEATS = 3  # a P wave must recur in this many beats (or in all when there are fewer)
P_CLEAR_S = 0.04  # ... whose previous T wave ended at least this long before the P onset
P_WINDOW_MAX_S = 0.40  # P search reaches this far before the QRS when the P starts at the usual window's edge
FIDUCIALS = ("p_on", "p_peak", "p_off", "qrs_on", "r_peak", "qrs_off", "t_peak", "t_off")


@dataclass(frozen=True)
class Params:
    """Thresholds of the delineator (defaults tuned on LUDB 1-120)."""

    qrs_level: float = 0.05
    qrs_quantile: float = 0.6
    gap_s: float = 0.008
    t_off_shift_s: float = 0.015
    qtc_max_s: float = 0.62
    p_level: float = 0.25
    p_window_s: float = 0.25
    p_after_t_s: float = 0.04
    p_corr: float = 0.6
    p_min_rel: float = 0.02
    dominant_corr: float = 0.9


PARAMS = Params()


@dataclass(frozen=True)
class Template:
    """The median beat: signal [leads, W] in mV (band-passed, each lead's PR level at 0), R at sample `r`."""

    signal: np.ndarray
    fs: float
    r: int
    leads: tuple[str, ...]
    n_beats: int


@dataclass(frozen=True)
class Delineation:
    """Global waves per beat, the median beat with its fiducials (template samples, None when not found) and the
    per-lead QRS onset / offset and T peak / offset on the median beat."""

    waves: Waves
    template: Template | None = None
    fiducials: dict[str, int | None] = field(default_factory=dict)
    lead_fiducials: dict[str, dict[str, int | None]] = field(default_factory=dict)
    dominant: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    notes: tuple[str, ...] = ()

    def interval_ms(self, start: str, end: str) -> float | None:
        a, b = self.fiducials.get(start), self.fiducials.get(end)
        if a is None or b is None or self.template is None:
            return None
        return 1000.0 * (b - a) / self.template.fs


def _bandpass(x: np.ndarray, fs: float) -> np.ndarray:
    sos = butter(2, [0.5, min(40.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    if x.shape[-1] <= 3 * (2 * len(sos) + 1):
        return x - np.median(x, axis=-1, keepdims=True)
    return sosfiltfilt(sos, x, axis=-1)


def _smooth(x: np.ndarray, n: int) -> np.ndarray:
    if n <= 1:
        return x
    kernel = np.ones(n) / n
    return np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), -1, x)


def _velocity(x: np.ndarray, fs: float) -> np.ndarray:
    """Spatial velocity (mV/s) of [leads, W]: root sum of squared slopes, smoothed over ~8 ms."""
    d = np.gradient(x, axis=-1) * fs
    return _smooth(np.sqrt((d ** 2).sum(axis=0)), max(1, round(0.008 * fs)))


def _windows(x: np.ndarray, fs: float, beats: np.ndarray, pre: int, post: int) -> tuple[np.ndarray, np.ndarray]:
    """Band-passed windows [n, leads, pre+post] around the beats (sample indices) whose window fits, filtering
    segment by segment, and which beats those are (indices into `beats`)."""
    n = x.shape[1]
    seg, pad = round(SEGMENT_S * fs), round(PAD_S * fs)
    starts = np.arange(0, n, seg)
    if len(starts) > MAX_SEGMENTS:
        starts = starts[np.linspace(0, len(starts) - 1, MAX_SEGMENTS).round().astype(int)]
    wins, idx = [], []
    for a in starts:
        b = min(a + seg, n)
        lo, hi = max(0, a - pad), min(n, b + pad)
        sel = np.flatnonzero((beats >= a) & (beats < b) & (beats - pre >= lo) & (beats + post <= hi))
        if not len(sel):
            continue
        f = _bandpass(x[:, lo:hi], fs)
        for i in sel:
            wins.append(f[:, beats[i] - pre - lo: beats[i] + post - lo])
            idx.append(i)
    if not wins:
        return np.zeros((0, x.shape[0], pre + post)), np.zeros(0, dtype=np.int64)
    return np.stack(wins), np.asarray(idx, dtype=np.int64)


def _align(win: np.ndarray, fs: float, pre: int) -> np.ndarray:
    """Per window, the shift (samples) from the detection to the spatial velocity peak within ±60 ms."""
    k = max(1, round(0.06 * fs))
    shifts = np.zeros(len(win), dtype=np.int64)
    for j, w in enumerate(win):
        v = _velocity(w[:, pre - k: pre + k + 1], fs)
        shifts[j] = int(np.argmax(v)) - k
    return shifts


def _refine(win: np.ndarray, ref: np.ndarray, shift: np.ndarray, k: int, qrs: slice, lag: int) -> np.ndarray:
    """Each window's shift moved by up to ±lag samples (within ±k) to best correlate its QRS with `ref`."""
    out = shift.copy()
    for j, w in enumerate(win):
        lags = [d for d in range(-lag, lag + 1) if abs(shift[j] + d) <= k]
        segs = np.stack([w[:, k + shift[j] + d + qrs.start: k + shift[j] + d + qrs.stop].ravel() for d in lags])
        out[j] = shift[j] + lags[int(np.argmax(_corr(segs, ref.ravel())))]
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row of a [n, m] with b [m]."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean()
    den = np.sqrt((a ** 2).sum(axis=1) * (b ** 2).sum()) + 1e-12
    return (a @ b) / den


def _walk(v: np.ndarray, start: int, thr: float, step: int, gap: int) -> int:
    """From `start`, walk by `step` until v stays below thr for `gap` samples; the first such sample (or the edge)."""
    i, run = start, 0
    while 0 <= i < len(v):
        run = run + 1 if v[i] < thr else 0
        if run >= gap:
            return i - step * (gap - 1)
        i += step
    return int(np.clip(i - step, 0, len(v) - 1))


def _qrs_bounds(x: np.ndarray, fs: float, r: int, p: Params) -> tuple[int, int]:
    v = _velocity(x, fs)
    k = max(1, round(0.06 * fs))
    lo = max(0, r - k)
    peak = float(v[lo: r + k + 1].max())
    gap = max(1, round(p.gap_s * fs))
    first = lo + int(np.argmax(v[lo: r + k + 1] > 0.5 * peak))
    last = r + k - int(np.argmax(v[lo: r + k + 1][::-1] > 0.5 * peak))
    on = _walk(v, first, p.qrs_level * peak, -1, gap)
    off = _walk(v, min(last, len(v) - 1), p.qrs_level * peak, +1, gap)
    return on, off


def _global_qrs(x: np.ndarray, fs: float, r: int, p: Params) -> tuple[int, int, np.ndarray]:
    """Global QRS onset / offset from the leads' own: the (1 - `qrs_quantile`) quantile of the onsets and the
    `qrs_quantile` quantile of the offsets (leads that start early / end late count, a lone outlier does not);
    also the per-lead bounds [leads, 2]."""
    bounds = np.array([_qrs_bounds(x[[i]], fs, r, p) for i in range(len(x))])
    on = round(float(np.quantile(bounds[:, 0], 1 - p.qrs_quantile)))
    off = round(float(np.quantile(bounds[:, 1], p.qrs_quantile)))
    return on, off, bounds


def _magnitude(x: np.ndarray, fs: float, smooth_s: float) -> np.ndarray:
    return _smooth(np.sqrt((x ** 2).sum(axis=0)), max(1, round(smooth_s * fs)))


def _t_wave(xb: np.ndarray, fs: float, qrs_off: int, end: int, p: Params) -> tuple[int | None, int | None]:
    """T peak and end (template samples) in [qrs_off + 60 ms, end)."""
    a = qrs_off + round(0.06 * fs)
    if end - a < round(0.08 * fs):
        return None, None
    m = _magnitude(xb, fs, 0.02)
    seg = m[a:end]
    peak = a + int(np.argmax(seg))
    tail = m[peak:end]
    if len(tail) < 3:
        return peak, None
    floor_i = peak + int(np.argmin(tail))
    floor = float(m[floor_i])
    slope = np.gradient(m[peak: floor_i + 1]) if floor_i - peak >= 2 else None
    if slope is None:
        return peak, None
    j = peak + int(np.argmin(slope))
    s = float(slope[j - peak])
    if s >= 0:
        return peak, None
    t_end = j + (floor - m[j]) / s  # where the tangent at j reaches the floor
    t_end += p.t_off_shift_s * fs
    return peak, int(np.clip(round(t_end), peak + 1, end - 1))


def _t_limit(width: int, fs: float, r: int, qrs_on: int, rr_s: float, p: Params) -> int:
    """Where the T wave search ends: before the next beat's P wave, and at most a QTc of `qtc_max_s`."""
    return min(width, r + round((0.9 * rr_s - 0.05) * fs), qrs_on + round(p.qtc_max_s * np.sqrt(rr_s) * fs))


def _detrend(seg: np.ndarray, fs: float) -> np.ndarray:
    """[..., W] minus, per row, the line from its mean over the first 10 ms to its mean over the last 10 ms."""
    n = max(1, round(0.01 * fs))
    a, b = seg[..., :n].mean(axis=-1, keepdims=True), seg[..., -n:].mean(axis=-1, keepdims=True)
    return seg - (a + (b - a) * np.linspace(0, 1, seg.shape[-1]))


def _p_wave(xb: np.ndarray, fs: float, start: int, qrs_on: int, p: Params) -> tuple[int, int, int] | None:
    """P onset, peak and offset (template samples) in [start, qrs_on - 10 ms), or None. Each lead's line from its
    level at the window start to its PR level is removed first (the TP and PR levels differ); onset and offset
    are where the spatial magnitude falls to `p_level` of the way from its floor on that side to the peak."""
    end = qrs_on - round(0.01 * fs)
    if end - start < round(0.06 * fs):
        return None
    m = _magnitude(_detrend(xb[:, start:end], fs), fs, 0.02)
    edge = max(1, round(0.02 * fs))
    if len(m) <= 2 * edge:
        return None
    peak = edge + int(np.argmax(m[edge:-edge]))
    height = float(m[peak])
    left, right = float(m[: peak + 1].min()), float(m[peak:].min())
    on = peak
    while on > 0 and m[on] > left + p.p_level * (height - left):
        on -= 1
    off = peak
    while off < len(m) - 1 and m[off] > right + p.p_level * (height - right):
        off += 1
    if off - on < round(0.03 * fs):
        return None
    return start + on, start + peak, start + off


@dataclass(frozen=True)
class BeatStack:
    """The aligned band-passed beat windows [n, leads, W] of an ECG (R at sample `pre`), which beats they are
    (`idx` into the beats, `shift` from detection to alignment point), which are dominant, and their median."""

    win: np.ndarray
    idx: np.ndarray
    shift: np.ndarray
    dominant: np.ndarray
    median: np.ndarray
    pre: int
    rr_s: float
    fs: float
    prev_rr: np.ndarray  # samples from the previous beat to each window's beat (the median RR for the first)


def stack_beats(x: np.ndarray, fs: float, beats: np.ndarray, params: Params = PARAMS) -> BeatStack | None:
    """Windows around the beats of x [leads, samples] (usable leads only), aligned, and their median beat."""
    rr = np.diff(beats) / fs
    rr_med = float(np.median(rr)) if len(rr) else 1.0
    pre, post = round(min(0.40, 0.55 * rr_med) * fs), round(min(0.80, 0.95 * rr_med) * fs)
    k = round(0.06 * fs)
    win, idx = _windows(x, fs, beats, pre + k, post + k)
    if len(win) == 0:
        return None
    shift = _align(win, fs, pre + k)
    qrs = slice(max(0, pre - round(0.1 * fs)), pre + round(0.1 * fs))
    first = np.median(np.stack([w[:, k + s: k + s + pre + post] for w, s in zip(win, shift, strict=True)]), axis=0)
    shift = _refine(win, first[:, qrs], shift, k, qrs, round(ALIGN_REFINE_S * fs))
    win = np.stack([w[:, k + s: k + s + pre + post] for w, s in zip(win, shift, strict=True)])
    first = np.median(win, axis=0)
    r_qrs = _corr(win[:, :, qrs].reshape(len(win), -1), first[:, qrs].ravel())
    dom = r_qrs >= params.dominant_corr
    if dom.sum() < max(1, len(win) // 2):
        dom = r_qrs >= np.median(r_qrs)
    prev_rr = np.where(idx > 0, beats[idx] - beats[np.maximum(idx - 1, 0)], round(rr_med * fs))
    return BeatStack(win, idx, shift, dom, np.median(win[dom], axis=0), pre, rr_med, fs, prev_rr)


def find_fiducials(st: BeatStack, params: Params = PARAMS) -> tuple[dict[str, int | None], np.ndarray, list[str]]:
    """The median beat's fiducials (template samples), its baseline-corrected signal, and notes."""
    tpl, fs, pre = st.median, st.fs, st.pre
    fid: dict[str, int | None] = dict.fromkeys(FIDUCIALS)
    fid["r_peak"] = pre
    on, off, _ = _global_qrs(tpl, fs, pre, params)
    fid["qrs_on"], fid["qrs_off"] = on, off
    pr_level = slice(max(0, on - round(0.01 * fs)), on + 1)
    xb = tpl - tpl[:, pr_level].mean(axis=1, keepdims=True)
    t_end_limit = _t_limit(tpl.shape[1], fs, pre, on, st.rr_s, params)
    fid["t_peak"], fid["t_off"] = _t_wave(xb, fs, off, t_end_limit, params)
    pw, beats, xp = None, st.win[st.dominant], xb
    # P is looked for after the previous beat's T wave: the window starts at the later of `p_window_s` before the
    # QRS and the previous T end of the median dominant beat; the beats whose previous T ends later are left out
    # (in an irregular rhythm they carry a T wave there, which a median would turn into a false P)
    prev_t_off = (fid["t_off"] if fid["t_off"] is not None else on) - st.prev_rr + round(params.p_after_t_s * fs)
    if st.dominant.any():
        p_start = max(0, on - round(params.p_window_s * fs), int(np.median(prev_t_off[st.dominant])))
        clean = st.dominant & (prev_t_off <= p_start)
        beats = st.win[clean]
        xp = np.median(beats, axis=0)
        xp = xp - xp[:, pr_level].mean(axis=1, keepdims=True)
        pw = _p_wave(xp, fs, p_start, on, params)
        wide = max(0, on - round(P_WINDOW_MAX_S * fs), int(prev_t_off[clean].max()))
        if pw is not None and pw[0] <= p_start + 1:  # P starts before the window: widen it, else no P
            pw = _p_wave(xp, fs, wide, on, params) if wide < p_start else None
            pw = None if pw is not None and pw[0] <= wide + 1 else pw
    if pw is not None:
        # confirmed on the beats whose previous T ends well before this P: the P must recur in them
        sure = prev_t_off[clean] <= pw[0] - round(P_CLEAR_S * fs)
        if sure.sum() < max(1, min(MIN_P_BEATS, len(beats))):
            pw = None
    if pw is not None:
        p_seg = slice(pw[0], pw[2] + 1)
        beat_p = _detrend(beats[sure][:, :, p_seg], fs)
        r_p = _corr(beat_p.reshape(int(sure.sum()), -1), _detrend(xp[:, p_seg], fs).ravel())
        mag = _magnitude(xb, fs, 0.02)
        p_height = _magnitude(xp, fs, 0.02)[pw[1]]
        if np.median(r_p) < params.p_corr or p_height < params.p_min_rel * mag[on: off + 1].max():
            pw = None
    notes: list[str] = []
    if pw is None:
        notes.append("no P wave found")
    else:
        fid["p_on"], fid["p_peak"], fid["p_off"] = pw
    if fid["t_off"] is None:
        notes.append("no T wave end found")
    return fid, xb, notes


def delineate(signal: np.ndarray, fs: float, beats: np.ndarray, leads: tuple[str, ...] | list[str],
              params: Params = PARAMS) -> Delineation:
    """Delineate the beats (sample indices) of an ECG signal [leads, samples] in mV. Never raises on a poor
    signal: what cannot be found is -1 / None and `notes` says why."""
    beats = np.asarray(beats, dtype=np.int64)
    empty = Waves(*(np.full(len(beats), -1, dtype=np.int64) for _ in range(8)))
    rows = usable_leads(signal)
    if not rows or len(beats) == 0:
        return Delineation(replace(empty, r_peak=beats.copy()), notes=() if len(beats) == 0 else ("no usable lead",))
    x = np.nan_to_num(np.asarray(signal, dtype=np.float64)[rows])
    names = tuple(leads[i] for i in rows)
    st = stack_beats(x, fs, beats, params)
    if st is None:
        return Delineation(replace(empty, r_peak=beats.copy()), notes=("no whole beat to delineate",))
    fid, xb, notes = find_fiducials(st, params)
    pre, off = st.pre, fid["qrs_off"]
    t_end_limit = _t_limit(xb.shape[1], fs, pre, fid["qrs_on"], st.rr_s, params)
    lead_fid = {}
    for i, name in enumerate(names):
        lon, loff = _qrs_bounds(st.median[[i]], fs, pre, params)
        tp, te = _t_wave(xb[[i]], fs, off, t_end_limit, params)
        lead_fid[name] = {"qrs_on": lon, "qrs_off": loff, "t_peak": tp, "t_off": te}

    where = beats.copy()
    where[st.idx] += st.shift
    dominant = np.zeros(len(beats), dtype=bool)
    dominant[st.idx[st.dominant]] = True
    other = st.idx[~st.dominant]  # beats seen to differ from the median beat (ectopic, aberrant)

    def place(key: str) -> np.ndarray:
        if fid[key] is None:
            return np.full(len(beats), -1, dtype=np.int64)
        out = where + (fid[key] - pre)
        if key.startswith("p_"):
            out[other] = -1
        return out

    qrs_on, qrs_off = place("qrs_on"), place("qrs_off")
    for j in np.flatnonzero(~st.dominant):  # their own QRS bounds, from their own window
        b_on, b_off, _ = _global_qrs(st.win[j], fs, pre, params)
        qrs_on[st.idx[j]], qrs_off[st.idx[j]] = where[st.idx[j]] + b_on - pre, where[st.idx[j]] + b_off - pre
    inside = {key: np.where((v >= 0) & (v < signal.shape[1]), v, -1).astype(np.int64)
              for key, v in {"p_on": place("p_on"), "p_peak": place("p_peak"), "p_off": place("p_off"),
                             "qrs_on": qrs_on, "qrs_off": qrs_off, "t_peak": place("t_peak"),
                             "t_off": place("t_off")}.items()}
    waves = Waves(r_peak=where, **inside)
    template = Template(xb, fs, pre, names, int(st.dominant.sum()))
    return Delineation(waves, template, fid, lead_fid, dominant, tuple(notes))
