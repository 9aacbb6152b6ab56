"""Beat signal processing at the record's own rate: QRS detection, per-beat windows and RR features.

- `detect_beats`: `sleepecg.detect_heartbeats` (Pan-Tompkins variant in C) on one lead; `detect_two_leads` adds
  the beats only the second beat lead shows; `detect_beats_multilead` votes across three or more leads.
- `beat_leads`: two leads in a fixed order: II (else the first lead), then V1 (else the next lead; zeros if none).
- `beat_windows`: 0.5-40 Hz band-pass at the native rate, then −0.25 s … +0.45 s around each beat sampled at
  100 Hz; per-beat median removed; with `norm="local"` each lead divided by the median peak amplitude of the
  ±`NEIGHBOURS` beats around it (per-recording scale, robust to gain differences between patients).
- `rr_features`: previous/next RR, local median RR, their ratios (the classic V/A cues).
- Beat classes: N (N, e, j, n), V (V, E), S (A, a, J, S), L, R, F, Q (paced, unclassifiable, and detections that
  match no annotated beat).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt

BEAT_CLASSES = ("N", "V", "S", "L", "R", "F", "Q")
SYMBOL_CLASS = {"N": "N", "e": "N", "j": "N", "n": "N", "V": "V", "E": "V", "A": "S", "a": "S", "J": "S",
                "S": "S", "L": "L", "R": "R", "F": "F", "/": "Q", "f": "Q", "Q": "Q", "?": "Q", "B": "Q", "r": "Q"}
# The WFDB symbol a predicted class stands for when the paper's interval rule runs on predicted beats. Q beats
# are mostly false detections: written as noise ('~') so that they are not neighbours.
CLASS_SYMBOL = {"N": "N", "V": "V", "S": "A", "L": "L", "R": "R", "F": "F", "Q": "~"}
PRE_S, POST_S, WINDOW_FS = 0.25, 0.45, 100
NEIGHBOURS = 8  # beats on each side for the local amplitude scale and median RR
N_RR = 6
MIN_DETECT_FS = 100.0  # below this rate, detection runs on an upsampled copy


def class_of(symbol: str) -> int:
    """Class index of a WFDB beat symbol (unknown symbols → Q)."""
    return BEAT_CLASSES.index(SYMBOL_CLASS.get(symbol, "Q"))


# ---- detection -------------------------------------------------------------------------------------------
def beat_leads(signal: np.ndarray, leads: Sequence[str]) -> np.ndarray:
    """float64 [2, n]: lead II (else the first lead) and V1 (else the next lead; zeros if there is one lead)."""
    leads = list(leads)
    first = leads.index("II") if "II" in leads else 0
    rest = [i for i in range(len(leads)) if i != first]
    second = leads.index("V1") if "V1" in leads and leads[first] != "V1" else (rest[0] if rest else None)
    out = np.zeros((2, signal.shape[1]), dtype=np.float64)
    out[0] = signal[first]
    if second is not None:
        out[1] = signal[second]
    return np.nan_to_num(out)


def detect_beats(lead: np.ndarray, fs: float) -> np.ndarray:
    """Sample indices (int64, sorted) of the QRS complexes in one lead; empty for signals under 2 s or flat."""
    x = np.nan_to_num(np.asarray(lead, dtype=np.float64))
    if len(x) < 2 * fs or not np.ptp(x) > 0:
        return np.zeros(0, dtype=np.int64)
    import sleepecg  # lazy: only needed when detecting

    if fs < MIN_DETECT_FS:  # sleepecg's 5-30 Hz band needs a Nyquist above 30 Hz: detect on an upsampled copy
        up = math.ceil(MIN_DETECT_FS / fs)
        found = np.asarray(sleepecg.detect_heartbeats(resample_poly(x, up, 1), fs * up)) / up
        return np.unique(np.clip(np.round(found), 0, len(x) - 1).astype(np.int64))
    return np.asarray(sleepecg.detect_heartbeats(x, fs), dtype=np.int64)


FUSE_TOLERANCE_S = 0.08  # detections in different leads this close are one beat
# Two-lead rescue (`detect_two_leads`; tuned on MIT-BIH DS1 only, docs/findings.md):
RESCUE_GAP_S = 0.25  # a second-lead detection this far from every first-lead one is a beat the first lead missed
RESCUE_AMPLITUDE = 0.5  # ... when its QRS is at least this share of the median QRS in both leads
RESCUE_SLOPE = 0.2  # ... and its steepest slope in the first lead this share of the median QRS's (not a baseline jump)
T_WAVE_S = 0.45  # ... and, rescued from the lead itself, is not a T wave: within this of the beat before it, with under
T_WAVE_SLOPE = 0.35  # ... this share of that beat's steepest slope (Pan-Tompkins' T-wave test)
SELF_RESCUE_HZ = 10.0  # with one lead, the second is the first low-passed at this
_RESCUE_HALF_S = 0.1  # QRS peak-to-peak measured over ± this


def detect_two_leads(x: np.ndarray, fs: float) -> np.ndarray:
    """QRS complexes of the two beat leads x [2, n] (`beat_leads`): the first lead's detections, plus each one of
    the second lead's that lies ≥ `RESCUE_GAP_S` from all of them and is QRS-sized in both leads (band-passed
    peak-to-peak over ±100 ms ≥ `RESCUE_AMPLITUDE` × each lead's median at its own detections), steep in the
    first (its steepest slope ≥ `RESCUE_SLOPE` × the median QRS's: electrode motion moves both leads' baseline
    by QRS-sized amounts, but slowly), placed at the first lead's largest deflection there. The detector's
    adaptive slope threshold, set by sharp sinus beats, misses wide slurred PVCs in one lead that the other shows
    (MIT-BIH 208: 323 of its 992 PVCs in MLII). A second lead that is flat or missing is replaced by the first
    lead low-passed at `SELF_RESCUE_HZ`, where a slurred QRS stands as tall as a sharp one; its rescues must also
    not be T waves (`T_WAVE_S`, `T_WAVE_SLOPE`: the low-passed lead shows a PVC's T wave too). On DS1 annotated
    beats missed fall from 614 to 173 with two leads (PVCs 476 to 53) and to 190 with one (PVCs 85), for 67 and
    53 more false detections (docs/findings.md)."""
    first = detect_beats(x[0], fs)
    if not len(first):
        return first
    x = np.nan_to_num(np.asarray(x[:2], dtype=np.float64))
    own = len(x) < 2 or not np.ptp(x[1]) > 0
    if own:
        x = np.stack([x[0], sosfiltfilt(butter(2, SELF_RESCUE_HZ, btype="low", fs=fs, output="sos"), x[0])])
    second = detect_beats(x[1], fs)
    if not len(second):
        return first
    j = np.searchsorted(first, second)
    near = np.minimum(np.abs(second - first[np.clip(j - 1, 0, len(first) - 1)]),
                      np.abs(second - first[np.clip(j, 0, len(first) - 1)]))
    candidates = second[near >= RESCUE_GAP_S * fs]
    if not len(candidates):
        return first
    f = bandpass(x, fs)
    h = max(1, round(_RESCUE_HALF_S * fs))
    pad = np.pad(f, ((0, 0), (h, h)), mode="edge")
    around = np.arange(2 * h + 1)

    def spans(lead: int, at: np.ndarray) -> np.ndarray:  # [len(at), 2h+1] samples of band-passed lead around `at`
        return pad[lead, at[:, None] + around[None]]

    def steepest(at: np.ndarray) -> np.ndarray:  # the first lead's largest |slope| around `at`
        return np.abs(np.diff(spans(0, at), axis=1)).max(axis=1)

    ref = [float(np.median(np.ptp(spans(0, first), axis=1))), float(np.median(np.ptp(spans(1, second), axis=1)))]
    w0, w1 = spans(0, candidates), spans(1, candidates)
    slope = steepest(candidates)
    sized = (np.ptp(w0, axis=1) >= RESCUE_AMPLITUDE * ref[0]) & (np.ptp(w1, axis=1) >= RESCUE_AMPLITUDE * ref[1]) \
        & (slope >= RESCUE_SLOPE * float(np.median(steepest(first))))
    if own:  # rescued from the lead itself: not the T wave of the first-lead beat before it
        k = np.searchsorted(first, candidates) - 1
        before = first[np.clip(k, 0, None)]
        sized &= ~((k >= 0) & (candidates - before < T_WAVE_S * fs) & (slope < T_WAVE_SLOPE * steepest(before)))
    w0 = w0[sized]
    peak = np.argmax(np.abs(w0 - np.median(w0, axis=1, keepdims=True)), axis=1) - h  # (empty when none is)
    added = np.clip(candidates[sized] + peak, 0, x.shape[1] - 1)
    return np.unique(np.concatenate([first, added.astype(np.int64)]))


def usable_leads(signal: np.ndarray) -> list[int]:
    """Rows that carry a signal: fewer than half NaN and not flat."""
    out = []
    for i, lead in enumerate(np.asarray(signal)):
        finite = lead[np.isfinite(lead)]
        if finite.size > len(lead) / 2 and np.ptp(finite) > 1e-4:
            out.append(i)
    return out


def detect_beats_multilead(signal: np.ndarray, fs: float) -> np.ndarray:
    """QRS complexes voted across leads (for 12-lead records): `detect_beats` on every usable lead, detections
    within `FUSE_TOLERANCE_S` grouped, a group kept when at least half of the usable leads saw it; its sample is
    the median of theirs. One or two usable leads: `detect_two_leads` on them."""
    rows = usable_leads(signal)
    if not rows:
        return np.zeros(0, dtype=np.int64)
    if len(rows) < 3:
        return detect_two_leads(np.asarray(signal)[rows], fs)
    found = [detect_beats(signal[i], fs) for i in rows]
    samples = np.concatenate(found)
    if not len(samples):
        return samples.astype(np.int64)
    order = np.argsort(samples, kind="stable")
    samples = samples[order]
    groups = np.concatenate([[0], np.cumsum(np.diff(samples) > FUSE_TOLERANCE_S * fs)])
    out = []
    for g in range(groups[-1] + 1):
        members = samples[groups == g]
        if len(members) >= len(rows) / 2:
            out.append(int(np.median(members)))
    return np.asarray(out, dtype=np.int64)


def match_beats(detected: np.ndarray, reference: np.ndarray, tolerance: int) -> np.ndarray:
    """For each detected beat, the index of the reference beat it matches (one-to-one, nearest within
    `tolerance` samples, closest pairs first), else -1."""
    detected, reference = np.asarray(detected), np.asarray(reference)
    out = np.full(len(detected), -1, dtype=np.int64)
    if not len(detected) or not len(reference):
        return out
    j = np.searchsorted(reference, detected)
    pairs = []
    for i, k in enumerate(j):
        for r in (k - 1, k):
            if 0 <= r < len(reference) and abs(int(reference[r]) - int(detected[i])) <= tolerance:
                pairs.append((abs(int(reference[r]) - int(detected[i])), i, r))
    used: set[int] = set()
    for _, i, r in sorted(pairs):
        if out[i] < 0 and r not in used:
            out[i] = r
            used.add(r)
    return out


# ---- per-beat inputs -------------------------------------------------------------------------------------
def _local(values: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Median of values[i-k : i+k+1] for each i along axis 0 (edges use the neighbours that exist; NaNs ignored)."""
    values = np.asarray(values, dtype=np.float64)
    pad = np.full((k, *values.shape[1:]), np.nan)
    padded = np.concatenate([pad, values, pad])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * k + 1, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices → NaN
        return np.nanmedian(windows, axis=-1)


def bandpass(signal: np.ndarray, fs: float) -> np.ndarray:
    """0.5-40 Hz zero-phase Butterworth (order 2) along the last axis; the high edge stays below Nyquist."""
    high = min(40.0, 0.45 * fs)
    sos = butter(2, [0.5, high], btype="bandpass", fs=fs, output="sos")
    if signal.shape[-1] <= 3 * (2 * len(sos) + 1):
        return signal - np.median(signal, axis=-1, keepdims=True)
    return sosfiltfilt(sos, signal, axis=-1)


def normalise_windows(win: np.ndarray, norm: str) -> np.ndarray:
    """`norm="local"`: divide each lead of each beat window by the median peak amplitude of the ±`NEIGHBOURS`
    beats around it; "none": unchanged (millivolts). Returns float32."""
    if norm == "local" and len(win):
        scale = _local(np.abs(win).max(axis=-1))  # [n, leads]
        floor = 0.05 * np.nanmax(scale, axis=0, initial=1e-3) + 1e-6
        win = win / np.maximum(scale, floor)[:, :, None]
    elif norm not in ("local", "none"):
        raise ValueError(f"norm must be 'local' or 'none', got {norm!r}")
    return win.astype(np.float32)


def with_context(win: np.ndarray) -> np.ndarray:
    """Append, per lead, the window minus the median window of its ±`NEIGHBOURS` beats (how the beat differs from
    the dominant beat around it: large for ectopic beats, small for a whole record of bundle-branch-block beats).
    [n, leads, W] → [n, 2·leads, W]."""
    if not len(win):
        return np.concatenate([win, win], axis=1)
    return np.concatenate([win, win - _local(win)], axis=1).astype(np.float32)


def beat_windows(signal: np.ndarray, fs: float, beats: np.ndarray, *, norm: str = "local",
                 pre_s: float = PRE_S, post_s: float = POST_S, out_fs: float = WINDOW_FS,
                 filtered: bool = False) -> np.ndarray:
    """float32 [n_beats, n_leads, round((pre_s + post_s) * out_fs)] windows around each beat: band-passed (unless
    `filtered` says it already is), sampled at `out_fs`, per-beat median removed, then `normalise_windows`."""
    x = signal if filtered else bandpass(np.asarray(signal, dtype=np.float64), fs)
    n_out = round((pre_s + post_s) * out_fs)
    offsets = (-pre_s + np.arange(n_out) / out_fs) * fs
    where = np.asarray(beats, dtype=np.float64)[:, None] + offsets[None, :]
    grid = np.arange(x.shape[-1])
    win = np.stack([np.interp(where, grid, lead) for lead in x], axis=1).reshape(len(where), len(x), n_out)
    win -= np.median(win, axis=-1, keepdims=True)
    return normalise_windows(win, norm)


def rr_features(beats: np.ndarray, fs: float) -> np.ndarray:
    """float32 [n_beats, 6]: prev RR, next RR, local median RR (s), prev/local, next/local, next/prev.

    A missing neighbour RR (first or last beat) takes the local median; a lone beat gets 1 s."""
    t = np.asarray(beats, dtype=np.float64) / fs
    n = len(t)
    if n == 0:
        return np.zeros((0, N_RR), dtype=np.float32)
    rr = np.diff(t)
    prev = np.concatenate([[np.nan], rr])
    nxt = np.concatenate([rr, [np.nan]])
    local = _local(prev) if n > 1 else np.array([1.0])
    local = np.where(np.isfinite(local), local, 1.0)
    prev = np.where(np.isfinite(prev), prev, local)
    nxt = np.where(np.isfinite(nxt), nxt, local)
    feats = np.stack([prev, nxt, local, prev / local, nxt / local, nxt / np.maximum(prev, 1e-3)], axis=1)
    return np.clip(feats, 0.0, 10.0).astype(np.float32)


@dataclass
class Beats:
    """Detected beats of one ECG: sample indices at `fs`, windows [n, 2, 70] and RR features [n, 6]."""

    sample: np.ndarray
    fs: float
    windows: np.ndarray
    rr: np.ndarray

    @property
    def times_s(self) -> np.ndarray:
        return self.sample / self.fs

    def __len__(self) -> int:
        return len(self.sample)


def extract_beats(signal: np.ndarray, fs: float, leads: Sequence[str], *, norm: str = "local",
                  context: bool = False) -> Beats:
    """Detect the beats of an ECG (signal [n_leads, n_samples] in mV) and build their encoder inputs
    (`context`: add the `with_context` channels)."""
    x = beat_leads(np.asarray(signal), leads)
    beats = detect_two_leads(x, fs)
    win = beat_windows(x, fs, beats, norm=norm)
    return Beats(beats, fs, with_context(win) if context else win, rr_features(beats, fs))
