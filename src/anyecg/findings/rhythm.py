"""Rhythm over time: episodes from beat times, beat classes and (optionally) P-wave evidence, 1 s to 24 h.

Everything here works on per-beat arrays (a 24 h Holter has ~100,000 beats), never on the signal, so memory
does not grow with the samples; `anyecg.findings.stream` reads long records block by block to make them.

- **AF**: per RR interval, |ΔRR| to the previous interval; its median over the ±`AF_HALF_WINDOW` intervals
  around, divided by their median RR, is the irregularity (intervals touching a V, F or Q beat are left out, so
  that ectopy and bigeminy are not "irregular"). Where P evidence is given (`p_score` per beat: 1 = a P wave
  time-locked to the QRS, 0 = none), its running median must also be below `AF_P_MAX`; where it is below
  `AF_P_ABSENT` (no P wave at all), an irregularity over `AF_IRREGULAR_NO_P` suffices (AF with frequent PVCs,
  whose intervals are left out, can be only mildly irregular in the rest). Beats that pass form AF episodes
  (runs ≥ `MIN_AF_S`, or half the ECG when shorter; gaps < `MERGE_AF_S` closed).
- **AFL**: regular RR (irregularity < `AF_IRREGULAR / 2`), no P wave (needs `p_score`), 100-180 bpm, ≥ `MIN_AF_S`.
- **VT / SVT**: runs of ≥ 3 consecutive V (S) beats faster than `RUN_RATE_BPM`, from the first to the last beat of the
  run (SVT not inside AF / AFL).
- **paced**: beats of class P (a pacemaker spike before a wide QRS: `anyecg.findings.pacing`) over at least half
  of the ±8 beats around, runs ≥ `MIN_RATE_S` (gaps < `MIN_RATE_S` closed); not sinus.
- **pause**: an RR interval ≥ 2 s, from the beat before to the beat after, unless the signal in it holds a
  QRS-sized deflection (`gap_activity` ≥ `PAUSE_MAX_ACTIVITY`: noise or beats the detector missed; a note says so).
- **bigeminy / trigeminy**: ≥ `MIN_CYCLES` consecutive cycles of N V (N N V).
- **sinus / sinus_brady / sinus_tachy**: the rest, by the running median rate (< 60, > 100 bpm); runs shorter
  than `MIN_RATE_S` join the run before.

Thresholds are module constants; where they were tuned (MIT-BIH DS1 only) is in docs/rhythm.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy.signal import detrend

from anyecg.findings.beat_classes import running_median
from anyecg.findings.types import Episode, Evidence

AF_HALF_WINDOW = 16  # RR intervals on each side for the irregularity statistic
MIN_VALID_RR = 8  # non-ectopic successive differences needed in that window; in a shorter one (a 10 s ECG) ...
MIN_VALID_SHARE, MIN_VALID_RR_SHORT = 0.3, 4  # ... 30 % of its intervals, at least 4 (set on DS1 10 s windows)
AF_IRREGULAR = 0.08  # median |ΔRR| / median RR above this: irregular
AF_P_MAX = 0.7  # running median of p_score below this: no consistent P wave
AF_P_ABSENT = 0.35  # ... below this: no P wave at all, where a milder irregularity is AF
AF_IRREGULAR_NO_P = 0.05  # the irregularity that suffices where the P wave is absent
P_MIN_RR_S = 0.5  # faster than 120 bpm the segment before the QRS holds the previous T wave: no P score
MIN_AF_S = 10.0
MERGE_AF_S = 10.0
PAUSE_S = 2.0
PAUSE_MAX_ACTIVITY = 0.5  # a gap whose signal reaches this share of the QRS amplitude is no pause
RUN_BEATS = 3
RUN_RATE_BPM = 100.0
MIN_CYCLES = 3
BRADY_BPM, TACHY_BPM = 60.0, 100.0
MIN_RATE_S = 10.0
MIN_RHYTHM_S = 5.0  # shortest ECG on which rhythm is read
_ECTOPIC = frozenset("VFQ")  # not sinus-conducted: left out of the RR irregularity and the P score


def _running(values: np.ndarray, k: int, stat=np.nanmedian, chunk: int = 8192) -> np.ndarray:
    """stat over values[i-k : i+k+1] (NaN-aware; edges use what exists), `chunk` beats at a time so that the
    working memory stays bounded for a 24 h record."""
    if len(values) == 0:
        return values.astype(np.float64)
    pad = np.full(k, np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, values, pad]), 2 * k + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows → NaN
        return np.concatenate([stat(windows[i:i + chunk], axis=-1) for i in range(0, len(windows), chunk)])


def irregularity(times_s: np.ndarray, classes: Sequence[str] | None = None, k: int = AF_HALF_WINDOW) -> np.ndarray:
    """Per RR interval (len = beats − 1): running median |ΔRR| / running median RR over ±k intervals, intervals
    touching an ectopic (V, F, Q) beat and pauses (≥ `PAUSE_S`) left out (on an ECG no longer than one window, |ΔRR|
    is taken across them); NaN where fewer than `MIN_VALID_RR` differences (on a short ECG `MIN_VALID_SHARE` of the
    window's, at least `MIN_VALID_RR_SHORT`) are left (bigeminy leaves none: every interval touches a V beat)."""
    t = np.asarray(times_s, dtype=np.float64)
    if len(t) < 3:
        return np.full(max(len(t) - 1, 0), np.nan)
    rr = np.diff(t)
    rr = np.where(rr >= PAUSE_S, np.nan, rr)  # pauses are read as pauses, not as irregularity
    if classes is not None:
        ect = np.fromiter((c in _ECTOPIC for c in classes), bool, len(t))
        rr = np.where(ect[1:] | ect[:-1], np.nan, rr)
    if len(rr) <= 2 * k + 1:  # a short ECG (one window): |ΔRR| between successive kept intervals, across ectopics
        d = np.full(len(rr), np.nan)
        kept = np.flatnonzero(np.isfinite(rr))
        d[kept[1:]] = np.abs(np.diff(rr[kept]))
    else:  # a long one has enough adjacent pairs; across a PVC's gap, sinus arrhythmia would read as irregular
        d = np.abs(np.diff(rr, prepend=np.nan))
    valid = _running(np.isfinite(d).astype(np.float64), k, np.nansum)
    in_window = _running(np.ones(len(d)), k, np.nansum)
    enough = valid >= np.minimum(MIN_VALID_RR, np.maximum(MIN_VALID_RR_SHORT, MIN_VALID_SHARE * in_window))
    return np.where(enough, _running(d, k) / _running(rr, k), np.nan)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _close_gaps(spans: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in spans:
        if out and a - out[-1][1] < gap:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def af_beats(times_s: np.ndarray, classes: Sequence[str] | None = None,
             p_score: np.ndarray | None = None) -> np.ndarray:
    """bool per beat: the beat lies in irregular rhythm without consistent P waves (before episode rules)."""
    n = len(times_s)
    if n < 3:
        return np.zeros(n, bool)
    irr = irregularity(times_s, classes)
    # an interval's value goes to the beat that ends it; the first beat takes the first interval's
    per_beat = np.concatenate([irr[:1], irr])
    irr = np.nan_to_num(per_beat)
    flag = irr > AF_IRREGULAR
    if p_score is not None:
        p = _running(np.asarray(p_score, dtype=np.float64), AF_HALF_WINDOW)
        flag &= ~(p >= AF_P_MAX)  # NaN (fast rates: no P-wave evidence) leaves the RR to decide
        flag |= (irr > AF_IRREGULAR_NO_P) & (p < AF_P_ABSENT)  # (NaN compares False: needs P evidence)
    return flag


def _span_episodes(kind: str, t: np.ndarray, mask: np.ndarray, min_s: float, gap_s: float,
                   reason: str) -> list[Episode]:
    spans = _close_gaps([(float(t[a]), float(t[b])) for a, b in _runs(mask)], gap_s)
    return [Episode(kind, a, b, Evidence(start_s=a, end_s=b, reason=reason)) for a, b in spans if b - a >= min_s]


def _beat_runs(kind: str, t: np.ndarray, classes: Sequence[str], cls: str, exclude: np.ndarray) -> list[Episode]:
    out = []
    for a, b in _runs(np.fromiter((c == cls for c in classes), bool, len(classes)) & ~exclude):
        n = b - a + 1
        if n < RUN_BEATS:
            continue
        rate = 60.0 * (n - 1) / max(t[b] - t[a], 1e-6)
        if rate > RUN_RATE_BPM:
            out.append(Episode(kind, float(t[a]), float(t[b]), Evidence(
                beats=tuple(range(a, b + 1)), start_s=float(t[a]), end_s=float(t[b]),
                reason=f"{n} consecutive {cls} beats at {rate:.0f} bpm")))
    return out


def _pattern_episodes(kind: str, t: np.ndarray, classes: Sequence[str], period: int) -> list[Episode]:
    """≥ MIN_CYCLES consecutive cycles of (period − 1) N beats then one V beat."""
    s = "".join(c if c in "NV" else "x" for c in classes)
    cycle = "N" * (period - 1) + "V"
    out, i = [], 0
    while i <= len(s) - period:
        j = i
        while s[j:j + period] == cycle:
            j += period
        cycles = (j - i) // period
        if cycles >= MIN_CYCLES:
            out.append(Episode(kind, float(t[i]), float(t[j - 1]), Evidence(
                beats=tuple(range(i, j)), start_s=float(t[i]), end_s=float(t[j - 1]),
                reason=f"{cycles} cycles of {'-'.join(cycle)}")))
            i = j
        else:
            i += 1
    return out


def _rate_episodes(t: np.ndarray, free: np.ndarray) -> list[Episode]:
    """sinus / sinus_brady / sinus_tachy over the beats not taken by another rhythm, by the running median rate."""
    if len(t) < 2:
        return []
    rr = np.diff(t)
    rate = 60.0 / _running(np.concatenate([rr[:1], rr]), 8)
    kinds = np.where(rate < BRADY_BPM, 0, np.where(rate > TACHY_BPM, 2, 1))
    names = ("sinus_brady", "sinus", "sinus_tachy")
    out: list[Episode] = []
    for a, b in _runs(free):
        segs: list[list] = []  # [kind, first, last]
        for i in range(a, b + 1):
            if segs and segs[-1][0] == kinds[i]:
                segs[-1][2] = i
            else:
                segs.append([int(kinds[i]), i, i])
        merged: list[list] = []
        for seg in segs:  # too short: joins the run before (or the next when it is the first)
            if merged and (t[seg[2]] - t[seg[1]] < MIN_RATE_S or merged[-1][0] == seg[0]):
                merged[-1][2] = seg[2]
            else:
                merged.append(seg)
        if len(merged) > 1 and t[merged[0][2]] - t[merged[0][1]] < MIN_RATE_S:
            merged[1][1] = merged[0][1]
            merged.pop(0)
        for k, i0, i1 in merged:
            if i1 > i0:
                bpm = 60.0 * (i1 - i0) / (t[i1] - t[i0])
                out.append(Episode(names[k], float(t[i0]), float(t[i1]), Evidence(
                    start_s=float(t[i0]), end_s=float(t[i1]), reason=f"{bpm:.0f} bpm")))
    return out


def rhythm_episodes(times_s: np.ndarray, classes: Sequence[str] | None = None, *, duration_s: float | None = None,
                    p_score: np.ndarray | None = None, gap_activity: np.ndarray | None = None,
                    ) -> tuple[tuple[Episode, ...], tuple[str, ...]]:
    """Episodes (sorted by start) and notes from beat times (s), per-beat classes (`BEAT_CLASSES` letters) and
    optional per-beat P-wave evidence and gap activity (`gap_activity`). Short or beat-less input gives notes,
    never an exception."""
    t = np.asarray(times_s, dtype=np.float64)
    classes = tuple(classes) if classes is not None else ("N",) * len(t)
    if len(classes) != len(t):
        raise ValueError(f"{len(t)} beat times but {len(classes)} classes")
    if gap_activity is not None and len(gap_activity) != len(t):
        raise ValueError(f"{len(t)} beat times but {len(gap_activity)} gap activities")
    notes: list[str] = []
    span = duration_s if duration_s is not None else (float(t[-1] - t[0]) if len(t) else 0.0)
    if len(t) == 0:
        return (), ("no beats detected",)
    if span < MIN_RHYTHM_S or len(t) < 3:
        notes.append(f"too short for rhythm ({span:.1f} s, {len(t)} beats)")
        pauses, note = _pauses(t, gap_activity)
        return tuple(pauses), tuple(notes + note)
    if p_score is None:
        notes.append("no P-wave evidence: AF read from RR irregularity alone, AFL not read")
    af_flag = af_beats(t, classes, p_score)
    min_af = min(MIN_AF_S, 0.5 * span)  # a 10 s ECG in AF is one episode of about its length
    episodes = _span_episodes("AF", t, af_flag, min_af, MERGE_AF_S, "irregular RR" +
                              ("" if p_score is None else ", no consistent P wave"))
    in_af = np.zeros(len(t), bool)
    for e in episodes:
        in_af |= (t >= e.start_s) & (t <= e.end_s)
    if p_score is not None:
        irr = np.concatenate([[np.nan], irregularity(t, classes)])
        p = _running(np.asarray(p_score, dtype=np.float64), AF_HALF_WINDOW)
        rate = 60.0 / _running(np.concatenate([[np.nan], np.diff(t)]), 8)
        flutter = (np.nan_to_num(irr, nan=1.0) < AF_IRREGULAR / 2) & (np.nan_to_num(p, nan=1.0) < AF_P_MAX) & \
            (rate >= 100) & (rate <= 180) & ~in_af
        afl = _span_episodes("AFL", t, flutter, min_af, MERGE_AF_S, "regular 100-180 bpm, no P wave")
        episodes += afl
        for e in afl:
            in_af |= (t >= e.start_s) & (t <= e.end_s)
    vt = _beat_runs("VT", t, classes, "V", np.zeros(len(t), bool))
    svt = _beat_runs("SVT", t, classes, "S", in_af)
    pauses, note = _pauses(t, gap_activity)
    notes += note
    episodes += vt + svt + pauses
    episodes += _pattern_episodes("bigeminy", t, classes, 2) + _pattern_episodes("trigeminy", t, classes, 3)
    is_p = np.fromiter((c == "P" for c in classes), np.float64, len(t))
    paced = _span_episodes("paced", t, _running(is_p, 8, np.nanmean) >= 0.5, min(MIN_RATE_S, 0.5 * span),
                           MIN_RATE_S, "pacemaker spike before a wide QRS") if is_p.any() else []
    episodes += paced
    taken = in_af.copy()
    for e in vt + svt + paced:
        taken |= (t >= e.start_s) & (t <= e.end_s)
    episodes += _rate_episodes(t, ~taken)
    return tuple(sorted(episodes, key=lambda e: (e.start_s, e.kind))), tuple(notes)


def _pauses(t: np.ndarray, activity: np.ndarray | None = None) -> tuple[list[Episode], list[str]]:
    """Pause episodes and a note on the long gaps that hold QRS-sized activity (not pauses)."""
    rr = np.diff(t)
    long = np.flatnonzero(rr >= PAUSE_S)
    busy = np.zeros(len(long), bool) if activity is None else \
        np.nan_to_num(np.asarray(activity, dtype=np.float64)[long + 1]) >= PAUSE_MAX_ACTIVITY
    episodes = [Episode("pause", float(t[i]), float(t[i + 1]), Evidence(
        beats=(int(i), int(i + 1)), start_s=float(t[i]), end_s=float(t[i + 1]), reason=f"RR {rr[i]:.2f} s"))
        for i in long[~busy]]
    note = [f"{busy.sum()} gap(s) ≥ {PAUSE_S:g} s hold QRS-sized deflections (noise or beats not detected): not "
            "read as pauses"] if busy.any() else []
    return episodes, note


def gap_activity(lead: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """Per beat: where the RR ending at it is ≥ `PAUSE_S`, the largest |deflection| of the raw `lead` in the gap
    (0.5 s after the previous beat to 0.2 s before this one: past its T wave, before this P wave), less the straight
    line between the gap's ends (slow baseline drift), over the median QRS peak-to-peak (±60 ms) of the beats; NaN
    elsewhere. A true pause is flat there but for P waves; noise, a baseline jump or missed beats are not."""
    x = np.asarray(lead, dtype=np.float64)
    beats = np.asarray(beats, dtype=np.int64)
    out = np.full(len(beats), np.nan)
    long = np.flatnonzero(np.diff(beats) >= PAUSE_S * fs)
    if not len(long):
        return out
    half = round(0.06 * fs)
    qrs = np.median([np.ptp(x[max(0, b - half):b + half + 1]) for b in beats]) + 1e-9
    for i in long:
        a, b = beats[i] + round(0.5 * fs), beats[i + 1] - round(0.2 * fs)
        if b > a + 1:
            out[i + 1] = float(np.abs(detrend(x[a:b])).max()) / qrs
    return out


def p_wave_score(lead: np.ndarray, fs: float, beats: np.ndarray, *, filtered: bool = True,
                 classes: Sequence[str] | None = None) -> np.ndarray:
    """Per beat: correlation of the segment before the QRS (-300 … -60 ms) with the median of that segment over
    the ±8 beats around (a P wave time-locked to the QRS repeats; fibrillatory waves do not). [-1, 1]; NaN where
    the segment leaves the signal or follows the previous beat by less than `P_MIN_RR_S`, and, given the beats'
    `classes`, where the beat or the one before it is ectopic (V, F, Q): a ventricular beat has no P wave and its
    T wave fills the next beat's segment. Those segments are left out of the median too. `lead`: one lead,
    band-passed unless `filtered` is False."""
    from anyecg.signal.beats import bandpass

    x = np.asarray(lead, dtype=np.float64) if filtered else bandpass(np.asarray(lead, dtype=np.float64), fs)
    beats = np.asarray(beats, dtype=np.int64)
    if len(beats) == 0:
        return np.zeros(0)
    off = np.arange(round(-0.30 * fs), round(-0.06 * fs))
    idx = beats[:, None] + off[None, :]
    prev_rr = np.diff(beats, prepend=beats[0] - round(fs)) / fs
    inside = (idx[:, 0] >= 0) & (idx[:, -1] < len(x)) & (prev_rr >= P_MIN_RR_S)
    if classes is not None:
        ectopic = np.fromiter((c in _ECTOPIC for c in classes), bool, len(beats))
        inside &= ~ectopic & ~np.concatenate([[False], ectopic[:-1]])
    seg = x[np.clip(idx, 0, len(x) - 1)]
    seg = seg - seg.mean(axis=1, keepdims=True)
    out = np.full(len(beats), np.nan)
    valid = np.flatnonzero(inside)
    if len(valid):
        tmpl = running_median(seg[valid], 8)  # over the ±8 usable beats around
        num = (seg[valid] * tmpl).sum(axis=1)
        out[valid] = num / (np.sqrt((seg[valid] ** 2).sum(axis=1) * (tmpl ** 2).sum(axis=1)) + 1e-9)
    return out
