"""Flutter waves: regular atrial activity at 220-375/min that runs on between the QRS complexes.

Atrial flutter's F waves are a continuous saw-tooth, most visible in II, III, aVF and V1, at an atrial rate of
240-350/min (slower on antiarrhythmic drugs). In each of those leads the QRS complexes are blanked (a straight
line from 50 ms before to 80 ms after each R peak), the rest band-passed at 2-20 Hz, and its autocorrelation read
at the lag L in 0.16-0.27 s where it peaks: a flutter wave train repeats at L, 2L and 3L alike, sinus P and T
waves repeat only at the RR, and AF's fibrillatory waves at no lag. A lead's score is the smallest of the three
correlations; the ECG's is the second-best lead's (flutter waves show in more than one lead; an artefact seldom
does); the atrial rate is 60 / L in the best lead. Read on strips up to `MAX_S` (a cart's ECG) with at least
`MIN_LEADS` of the four leads; rhythm episodes (`rhythm.py`) read flutter on longer records.

Chosen on the training records only (PTB-XL folds 1-8, CPSC2018 A0001-A0100, the CinC 2021 sample, Chapman,
LUDB 1-120: 4 flutter records, none in PTB-XL folds 1-8): 3 of 4 score 0.54-0.61, no other record above 0.45;
the fourth, a 2:1 flutter at 162 bpm (Chapman JS00005), scores 0.16: with every other F wave inside a blanked
QRS the train is broken (docs/statements.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, correlate, sosfiltfilt

FLUTTER_LEADS = ("II", "III", "aVF", "V1")
MAX_S = 60.0
BLANK_S = (0.05, 0.08)  # QRS blanked from this before to this after each R peak
LAG_S = (0.16, 0.27)  # flutter cycle lengths searched: 375-222/min
MIN_BEATS = 3
MIN_FS = 50.0  # F waves at 4-6 Hz with their 2-20 Hz band need this rate
MIN_LEADS = 3  # of FLUTTER_LEADS: a 2-lead Holter's V1 reads muscle tremor at 4-6 Hz as flutter (MIT-BIH 101)


@dataclass(frozen=True)
class FlutterWaves:
    score: float  # the autocorrelation at L, 2L, 3L (the smallest of the three) in the second-best lead
    atrial_rate_bpm: float  # 60 / L in the best lead
    leads: tuple[str, str]  # the best two


def _residual(lead: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """The lead with each QRS replaced by a straight line, band-passed at 2-20 Hz, with 0.5 s cut at each end."""
    x = np.array(lead, dtype=np.float64)
    before, after = round(BLANK_S[0] * fs), round(BLANK_S[1] * fs)
    for b in beats:
        s, e = max(0, int(b) - before), min(len(x) - 1, int(b) + after)
        x[s: e + 1] = np.linspace(x[s], x[e], e - s + 1)
    x = sosfiltfilt(butter(2, [2.0, 20.0], btype="bandpass", fs=fs, output="sos"), x)
    edge = round(0.5 * fs)
    x = x[edge: len(x) - edge]
    return x - x.mean()


def flutter_waves(signal: np.ndarray, fs: float, leads: Sequence[str], beats: np.ndarray) -> FlutterWaves | None:
    """The flutter-wave read of an ECG [leads, n] in mV at fs; None when it has fewer than `MIN_LEADS` of
    `FLUTTER_LEADS`, fewer than `MIN_BEATS` beats, is sampled under `MIN_FS`, or is longer than `MAX_S` or too
    short for three cycles at the longest lag."""
    rows = [(leads.index(name), name) for name in FLUTTER_LEADS if name in leads]
    n = signal.shape[1]
    if len(rows) < MIN_LEADS or len(beats) < MIN_BEATS or fs < MIN_FS or n > MAX_S * fs \
            or n < (1.0 + 4 * LAG_S[1]) * fs:
        return None
    lags = np.arange(round(LAG_S[0] * fs), round(LAG_S[1] * fs) + 1)
    found: list[tuple[float, int, str]] = []  # (score, lag, lead)
    for i, name in rows:
        x = _residual(signal[i], fs, beats)
        energy = float(x @ x)
        if not energy > 0:
            continue
        ac = correlate(x, x, mode="full", method="fft")[len(x) - 1:] / energy
        lag = int(lags[np.argmax(ac[lags])])
        found.append((float(min(ac[lag], ac[2 * lag], ac[3 * lag])), lag, name))
    if len(found) < 2:
        return None
    (_, lag, first), (score, _, second) = sorted(found, reverse=True)[:2]
    return FlutterWaves(score, 60.0 * fs / lag, (first, second))
