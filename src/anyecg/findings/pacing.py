"""Paced beats: a pacemaker spike just before a wide QRS.

A pacemaker pulse lasts 0.5-2 ms; even after a Holter's or MIT-BIH's analog low-pass (~100 Hz) it stays a sharp
deflection whose energy lies above the QRS's (a QRS carries little above 40 Hz). Per beat, `spike_score` is the
peak of the signal high-passed at `SPIKE_HP_HZ` in the -50 … +20 ms around the detection (the detector lands on
the spike or the QRS onset right after it), over the peak-to-peak of the band-passed QRS (-50 … +150 ms), the
largest over the beat leads. A paced ventricular beat is wide by physiology (the impulse spreads through the
myocardium, not the conduction system), so `paced_beats` only reads pacing where the record's dominant QRS
(`paced_qrs_ms`) is ≥ 120 ms: a narrow QRS has sharp edges too (it scores like a spike) but is conducted. Beats whose score reaches
`SPIKE_MIN` (`SPIKE_MIN_WIDEBAND` at ≥ 400 Hz) are then class P (paced), never L, R or V, and runs of them are "paced" episodes.

Where the rate is too low to keep anything above `SPIKE_HP_HZ` (fs < 2.5 × it), no spike is read: `spike_score` is
NaN and no pacing is read. Thresholds: see docs/rhythm.md ("Where things were tuned").
"""

from __future__ import annotations

import numpy as np

SPIKE_HP_HZ = 60.0  # above the QRS's own spectrum
SPIKE_MIN = 0.03  # high-passed peak / QRS peak-to-peak at which a beat carries a spike (Holter bandwidth)
SPIKE_MIN_WIDEBAND = 0.2  # the same at fs ≥ WIDEBAND_FS: a diagnostic cart's 150 Hz bandwidth keeps QRS notches
WIDEBAND_FS = 400.0  # above 60 Hz, so a bundle branch block's QRS scores 0.02-0.15 there
SPIKE_CONTRAST = 2.5  # the spike's high-passed peak over the largest one in the quiet segment before (noise)
PACED_MIN_SHARE = 0.4  # share of a record's (block's) beats with a spike before any beat is called paced
PACED_HYSTERESIS = 0.5  # in a paced record, a spike this share of the threshold counts
_EARLY = (-0.05, 0.02)  # s around the detection where the spike lies
_QUIET = (-0.35, -0.1)  # s before the detection: the P wave and baseline, no spike (muscle noise shows here)
_QRS = (-0.05, 0.15)


def spike_score(x: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """Per beat (float, NaN when unread): high-passed peak near the QRS onset / QRS peak-to-peak, max over the
    rows of x [leads, n] (raw mV, not band-passed: the band-pass removes the spike); 0 where that peak is less
    than `SPIKE_CONTRAST` × the largest high-passed deflection of the quiet segment before the beat (muscle noise
    or a noisy lead is high-frequency everywhere; a spike stands alone)."""
    from scipy.signal import butter, sosfiltfilt

    from anyecg.signal.beats import bandpass

    beats = np.asarray(beats, dtype=np.int64)
    x = np.atleast_2d(np.nan_to_num(np.asarray(x, dtype=np.float64)))
    if len(beats) == 0 or fs < 2.5 * SPIKE_HP_HZ or x.shape[1] < round(fs):
        return np.full(len(beats), np.nan)
    rows = [i for i in range(len(x)) if np.ptp(x[i]) > 0]
    if not rows:
        return np.full(len(beats), np.nan)
    x = x[rows]
    hp = sosfiltfilt(butter(4, SPIKE_HP_HZ, "highpass", fs=fs, output="sos"), x, axis=-1)
    bp = bandpass(x, fs)
    early = np.arange(round(_EARLY[0] * fs), round(_EARLY[1] * fs))
    qrs = np.arange(round(_QRS[0] * fs), round(_QRS[1] * fs))
    inside = (beats + qrs[0] >= 0) & (beats + qrs[-1] < x.shape[1])
    b = np.clip(beats, -qrs[0], x.shape[1] - 1 - qrs[-1])
    quiet = np.arange(round(_QUIET[0] * fs), round(_QUIET[1] * fs))
    peak = np.abs(hp[:, b[:, None] + early[None]]).max(-1)  # [leads, beats]
    noise = np.abs(hp[:, np.clip(b[:, None] + quiet[None], 0, x.shape[1] - 1)]).max(-1)
    ptp = np.ptp(bp[:, b[:, None] + qrs[None]], axis=-1)
    score = np.where(peak >= SPIKE_CONTRAST * noise, peak / (ptp + 1e-6), 0.0).max(0)
    return np.where(inside, score, np.nan)


def paced_qrs_ms(template: np.ndarray | None, fs: float, qrs_ms: float | None = None) -> float | None:
    """QRS width of the dominant beat with a spike in it: `qrs_width_ms` after a 20 ms running median (which
    removes a spike narrower than that; the spike's slope would otherwise set the 15 % slope threshold and cut the
    slower paced QRS short); the larger of it and `qrs_ms` (the delineation's) when that is given."""
    from scipy.ndimage import median_filter

    from anyecg.findings.beat_classes import qrs_width_ms

    widths = [w for w in (qrs_ms,) if w is not None and np.isfinite(w)]
    if template is not None:
        k = round(0.02 * fs) | 1
        w = qrs_width_ms(median_filter(np.asarray(template, dtype=np.float64), size=(1, k), mode="nearest"), fs)
        if np.isfinite(w):
            widths.append(w)
    return max(widths) if widths else None


def spike_min(fs: float) -> float:
    """The spike score from which a beat carries a pacemaker spike at this sampling rate."""
    return SPIKE_MIN_WIDEBAND if fs >= WIDEBAND_FS else SPIKE_MIN


def paced_beats(spike: np.ndarray, qrs_ms: float | None, fs: float = 360.0) -> np.ndarray:
    """bool per beat: paced (a spike before a QRS, in a record whose dominant QRS (`paced_qrs_ms`) is wide and
    where at least `PACED_MIN_SHARE` of the beats carry a spike). Once a record is paced, a spike of
    `PACED_HYSTERESIS` × the threshold counts (hysteresis: the spike's size varies with the lead's axis and gain)."""
    spike = np.nan_to_num(np.asarray(spike, dtype=np.float64), nan=0.0)
    if len(spike) == 0 or qrs_ms is None or not np.isfinite(qrs_ms) or qrs_ms < 120.0 or \
            (spike >= spike_min(fs)).mean() < PACED_MIN_SHARE:
        return np.zeros(len(spike), bool)
    return spike >= PACED_HYSTERESIS * spike_min(fs)
