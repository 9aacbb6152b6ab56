"""Beat classes that transfer across databases: N, V, S, F, Q per beat, then L / R as a record-level finding.

Per beat (`beat_features`), everything relative to the record itself so that it carries over to new patients,
rates and gains:
- RR timing normalised by the record's local RR (de Chazal 2004): previous / next RR over the median RR of the
  ±8 and ±32 beats around, next/previous; the raw local RR.
- Morphology against the record's dominant beat (the median window of the ±`DOMINANT` beats around): per lead
  the QRS correlation, amplitude ratio, residual energy and width ratio, plus the beat and its difference to
  the dominant beat downsampled (0.5-40 Hz, -0.1 … +0.3 s at 50 Hz).

`BeatClassifier` (a 2-layer MLP in numpy: an ensemble of 5 stored as one, weights
`weights/findings/beat_classes.safetensors`, trained by `anyecg.train.findings_beats` on MIT-BIH DS1 only) maps
these to N, V, S, F, Q. Left / right bundle branch block is no per-beat guess: `conduction` reads the dominant beat's QRS width (from the delineation when given, else
`qrs_width_ms`) and, where V1 is known, its terminal deflection there; only a QRS ≥ 120 ms with that morphology
turns the record's N beats into L or R. `checked_classes` keeps a class off most of a record when the
measurements contradict it (S inside atrial fibrillation, V on a majority of narrow beats).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from anyecg.signal.beats import SYMBOL_CLASS, bandpass, beat_windows, match_beats, rr_features

CLASSES = ("N", "V", "S", "F", "Q")  # what the per-beat classifier says; L and R come from `conduction`
DOMINANT = 16  # beats on each side whose median window is the dominant beat
WIDE_RR = 32  # beats on each side for the wider RR reference
QRS_WIDE_MS = 120.0  # complete bundle branch block
PREMATURE = 0.8  # previous RR under this share of the mean RR around: premature (`premature`; tuned on DS1)
PREMATURE_BEATS = 150  # beats on each side for that mean RR (de Chazal's ±5 min average, in beats)
LIKE_DOMINANT = 0.9  # QRS correlation with the dominant beat above which a premature N call is S
FUSION_NEAR_V = 50  # beats: the smallest window that keeps every right F call on DS1 (5: 0.75 of them)
WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "findings" / "beat_classes.safetensors"
# window grid of `beat_windows`: -0.25 … +0.45 s at 100 Hz, R at index 25
_R, _QRS = 25, slice(15, 40)  # QRS region -0.10 … +0.15 s
_SHAPE = slice(15, 55, 2)  # -0.10 … +0.30 s at 50 Hz: 20 samples


def running_median(values: np.ndarray, k: int) -> np.ndarray:
    """Median of values[i-k : i+k+1] along axis 0, edges padded with the edge values. Computed at every
    max(1, k // 4)-th beat and held for the beats between (the median of 2k+1 beats barely moves in k // 4 beats;
    this is the costliest step of a 24 h read)."""
    if len(values) == 0:
        return values.copy()
    step = max(1, k // 4)
    padded = np.concatenate([np.repeat(values[:1], k, axis=0), values, np.repeat(values[-1:], k, axis=0)])
    beats_last = np.ascontiguousarray(np.moveaxis(padded, 0, -1))  # windows contiguous in memory: faster median
    centres = np.lib.stride_tricks.sliding_window_view(beats_last, 2 * k + 1, axis=-1)[..., ::step, :]
    med = np.moveaxis(np.median(centres, axis=-1), -1, 0)
    nearest = np.minimum((np.arange(len(values)) + step // 2) // step, len(med) - 1)
    return med[nearest]


def _width(win: np.ndarray) -> np.ndarray:
    """QRS width in samples (10 ms at 100 Hz) per beat and lead: samples of the QRS region above 30 % of its peak."""
    q = np.abs(win[..., _QRS])
    return (q > 0.3 * q.max(axis=-1, keepdims=True) + 1e-9).sum(axis=-1).astype(np.float32)


def beat_features(x: np.ndarray, fs: float, beats: np.ndarray, *, filtered: bool = False) -> np.ndarray:
    """float32 [n_beats, N_FEATURES] from the two beat leads x [2, n] (mV; `anyecg.signal.beats.beat_leads`)."""
    beats = np.asarray(beats, dtype=np.int64)
    n = len(beats)
    if n == 0:
        return np.zeros((0, N_FEATURES), dtype=np.float32)
    rr = rr_features(beats, fs)  # prev, next, local, prev/local, next/local, next/prev
    wide = running_median(rr[:, :1], WIDE_RR)[:, 0]
    rr_part = np.column_stack([rr[:, 3], rr[:, 4], rr[:, 5], rr[:, 0] / wide, rr[:, 1] / wide, rr[:, 2]])
    win = beat_windows(x, fs, beats, norm="local", filtered=filtered)  # [n, 2, 70]
    dom = running_median(win, DOMINANT)
    qb, qd = win[..., _QRS], dom[..., _QRS]
    qb0, qd0 = qb - qb.mean(-1, keepdims=True), qd - qd.mean(-1, keepdims=True)
    energy_d = (qd0 ** 2).sum(-1) + 1e-6
    corr = (qb0 * qd0).sum(-1) / np.sqrt(((qb0 ** 2).sum(-1) + 1e-6) * energy_d)
    amp = np.ptp(qb, axis=-1) / (np.ptp(qd, axis=-1) + 1e-3)
    resid = ((qb - qd) ** 2).sum(-1) / energy_d
    width = _width(win) / np.maximum(_width(dom), 1.0)
    morph = np.concatenate([corr, np.log(amp + 1e-2), np.log1p(resid), width], axis=1)  # [n, 8]
    shape = np.concatenate([win[..., _SHAPE], (win - dom)[..., _SHAPE]], axis=1).reshape(n, -1)  # [n, 80]
    feats = np.concatenate([np.clip(rr_part, 0, 10), morph, np.clip(shape, -5, 5)], axis=1)
    return np.nan_to_num(feats).astype(np.float32)


N_FEATURES = 6 + 8 + 80


@dataclass(frozen=True)
class BeatClassifier:
    """Standardise, then Linear-ReLU-Linear-ReLU-Linear: logits over `CLASSES`."""

    mean: np.ndarray
    std: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]  # (weight [out, in], bias [out])

    def logits(self, feats: np.ndarray) -> np.ndarray:
        h = (np.asarray(feats, dtype=np.float32) - self.mean) / self.std
        for i, (w, b) in enumerate(self.layers):
            h = h @ w.T + b
            if i + 1 < len(self.layers):
                h = np.maximum(h, 0.0)
        return h

    def predict(self, feats: np.ndarray) -> tuple[str, ...]:
        if len(feats) == 0:
            return ()
        return tuple(CLASSES[i] for i in self.logits(feats).argmax(axis=1))

    def tensors(self) -> dict[str, np.ndarray]:
        out = {"mean": self.mean, "std": self.std}
        for i, (w, b) in enumerate(self.layers):
            out[f"layer{i}.weight"], out[f"layer{i}.bias"] = w, b
        return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}

    @classmethod
    def from_tensors(cls, t: dict[str, np.ndarray]) -> BeatClassifier:
        n = sum(k.endswith(".weight") for k in t)
        return cls(t["mean"], t["std"], tuple((t[f"layer{i}.weight"], t[f"layer{i}.bias"]) for i in range(n)))


@lru_cache(maxsize=2)
def load_classifier(path: str | Path = WEIGHTS) -> BeatClassifier:
    from safetensors.numpy import load_file

    return BeatClassifier.from_tensors(load_file(str(path)))


def premature(beats: np.ndarray, fs: float, k: int = PREMATURE_BEATS) -> np.ndarray:
    """bool per beat: its preceding RR is under `PREMATURE` × the mean RR of the ±k beats around (de Chazal's
    average RR: a mean, which the long cycles after ectopic beats and pauses pull up, so that a record whose
    ectopic beats outnumber its sinus beats still shows them premature). The first beat is never premature."""
    t = np.asarray(beats, dtype=np.float64) / fs
    if len(t) < 2:
        return np.zeros(len(t), bool)
    prev = np.diff(t)
    csum = np.concatenate([[0.0], np.cumsum(prev)])
    i = np.arange(len(prev))
    lo, hi = np.maximum(i - k, 0), np.minimum(i + k + 1, len(prev))
    mean = (csum[hi] - csum[lo]) / (hi - lo)
    return np.concatenate([[False], prev < PREMATURE * mean])


def classify_beats(x: np.ndarray, fs: float, beats: np.ndarray, *, filtered: bool = False) -> tuple[str, ...]:
    """N / V / S / F / Q per beat from the two beat leads (no L / R: see `conduction`).

    The classifier's calls, then two rules on the QRS shape against the dominant beat and the RR timing:
    - A V call needs the beat to differ from its dominant beat: one whose QRS matches it (correlation > 0.95 in
      every recorded lead, residual < 0.2) at a rate under 100 bpm is supraventricular: S when `premature`,
      else N. A record of wide but uniform beats (a bundle branch block) must not turn into V beats on shape
      alone; a run of identical V beats faster than 100 bpm (VT) keeps them.
    - S is a premature beat with the dominant QRS: an N call whose QRS is like the dominant one (correlation
      > `LIKE_DOMINANT` in every recorded lead) and `premature` is S; an S call that is not premature is N."""
    feats = beat_features(x, fs, beats, filtered=filtered)
    classes = load_classifier().predict(feats)
    if not classes:
        return classes
    second = bool(np.ptp(x[1]) > 0) if len(x) > 1 else False
    corr0, corr1, resid0, local_rr = feats[:, 6], feats[:, 7], feats[:, 10], feats[:, 5]
    same = (corr0 > 0.95) & ((corr1 > 0.95) | (not second)) & (np.expm1(resid0) < 0.2) & (local_rr > 0.6)
    like = (corr0 > LIKE_DOMINANT) & ((corr1 > LIKE_DOMINANT) | (not second))
    early = premature(beats, fs)
    out = []
    for c, s, lk, e in zip(classes, same, like, early, strict=True):
        if c == "V" and s:
            c = "S" if e else "N"
        elif c == "N" and lk and e:
            c = "S"
        elif c == "S" and not e:
            c = "N"
        out.append(c)
    return tuple(out)


# ---- record level --------------------------------------------------------------------------------------------
def dominant_beat(x: np.ndarray, fs: float, beats: np.ndarray, classes: Sequence[str], *, max_beats: int = 300,
                  filtered: bool = False) -> np.ndarray | None:
    """Median native-rate window (-0.2 … +0.3 s) over up to `max_beats` N beats, per lead [leads, W]; None when
    fewer than 5 N beats."""
    idx = [i for i, c in enumerate(classes) if c == "N"]
    if len(idx) < 5:
        return None
    idx = np.asarray(idx)[np.linspace(0, len(idx) - 1, min(max_beats, len(idx))).astype(int)]
    xf = x if filtered else bandpass(np.asarray(x, dtype=np.float64), fs)
    pre, post = round(0.2 * fs), round(0.3 * fs)
    centres = np.asarray(beats)[idx]
    centres = centres[(centres >= pre) & (centres + post < xf.shape[-1])]
    if len(centres) < 5:
        return None
    segs = np.stack([xf[:, c - pre:c + post] for c in centres])
    return np.median(segs - np.median(segs, axis=-1, keepdims=True), axis=0)


def qrs_width_ms(template: np.ndarray, fs: float) -> float:
    """QRS width of a dominant beat (R at 0.2 s): the summed absolute slope of all leads, smoothed over 10 ms and
    less its median (the baseline's noise), stays above 15 % of its peak within ±120 ms of R. A crude cart-style
    onset/offset that runs short of a cardiologist's by ~10 ms; prefer the delineation's QRS when there is one.
    """
    slope = np.abs(np.diff(template, axis=-1)).sum(axis=0)
    k = max(1, round(0.01 * fs))
    slope = np.convolve(slope, np.ones(k) / k, mode="same") - np.median(slope)
    r = round(0.2 * fs)
    seg = slope[max(0, r - round(0.12 * fs)):min(len(slope), r + round(0.12 * fs))]
    above = np.flatnonzero(seg > 0.15 * seg.max())
    if not len(above) or not seg.max() > 0:
        return float("nan")
    return 1000.0 * (above[-1] - above[0] + 1) / fs


@dataclass(frozen=True)
class Conduction:
    """Record-level conduction read: QRS width of the dominant beat and the bundle branch block it supports."""

    qrs_ms: float | None
    block: str | None  # "L", "R" or None
    reason: str


def conduction(template: np.ndarray | None, fs: float, leads: Sequence[str], *,
               qrs_ms: float | None = None) -> Conduction:
    """Left / right bundle branch block of the record's dominant beat (`dominant_beat`, rows = `leads`), or none.

    Needs QRS ≥ `QRS_WIDE_MS` (`qrs_ms` from the delineation when known, else measured on the dominant beat) and
    V1 among the leads: a positive terminal QRS in V1 (rSR', qR) is right, a negative one (QS, rS) left.
    Without V1 a wide QRS is said, no block is named.
    """
    if template is None:
        return Conduction(qrs_ms, None, "too few normal beats for the dominant beat")
    width = qrs_ms if qrs_ms is not None else qrs_width_ms(template, fs)
    if not np.isfinite(width) or width < QRS_WIDE_MS:
        return Conduction(width, None, f"QRS {width:.0f} ms")
    if "V1" not in leads:
        return Conduction(width, None, f"QRS {width:.0f} ms; V1 not recorded, block side unknown")
    v1 = template[list(leads).index("V1")]
    r = round(0.2 * fs)
    half = round(width / 2000.0 * fs)
    terminal = v1[r:r + half + round(0.02 * fs)]
    area = float(terminal.sum())
    block = "R" if area > 0 else "L"
    word = "positive (rsR')" if block == "R" else "negative (QS/rS)"
    return Conduction(width, block, f"QRS {width:.0f} ms, terminal QRS in V1 {word}")


def checked_classes(classes: Sequence[str], *, block: str | None, af_mask: np.ndarray | None = None,
                    narrow: bool | None = None, v_rate_bpm: float | None = None) -> tuple[str, ...]:
    """Per-beat classes after the record-level checks:
    - a bundle branch block (`block` "L"/"R") turns N beats into that class;
    - S is not called inside atrial fibrillation (`af_mask` per beat): irregular RR is the rhythm there;
    - V may not cover most of a record unless the measurements agree: not when the dominant QRS is narrow
      (`narrow`), nor when those beats come slower than 100 bpm (`v_rate_bpm`, the median rate over the V beats:
      a record-long ventricular rhythm that slow would be idioventricular, far rarer than a misread morphology);
      those beats go back to N;
    - F (fusion of a ventricular ectopic and a conducted beat) needs a V beat within `FUSION_NEAR_V` beats; it is
      N otherwise.
    """
    out = list(classes)
    if af_mask is not None:
        out = ["N" if c == "S" and af else c for c, af in zip(out, af_mask, strict=True)]
    slow = v_rate_bpm is not None and v_rate_bpm < 100.0
    if (narrow or slow) and out and out.count("V") > 0.5 * len(out):
        out = ["N" if c == "V" else c for c in out]
    if "F" in out:
        n_v = np.concatenate([[0], np.cumsum([c == "V" for c in out])])
        i = np.arange(len(out))
        near_v = n_v[np.minimum(len(out), i + FUSION_NEAR_V + 1)] > n_v[np.maximum(0, i - FUSION_NEAR_V)]
        out = ["N" if c == "F" and not near else c for c, near in zip(out, near_v, strict=True)]
    if block in ("L", "R"):
        out = [block if c == "N" else c for c in out]
    return tuple(out)


def annotated_classes(detected: np.ndarray, sample: np.ndarray, symbol: Sequence[str], fs: float,
                      tolerance_s: float = 0.15) -> tuple[str, ...]:
    """The annotated class (`anyecg.signal.beats.BEAT_CLASSES`: N V S L R F Q) of each detected beat: the
    matched beat annotation's (within `tolerance_s`, one-to-one), Q for a detection that matches none."""
    syms, match = _matched(detected, sample, symbol, fs, tolerance_s)
    return tuple(SYMBOL_CLASS.get(syms[m], "Q") if m >= 0 else "Q" for m in match)


def missed_classes(detected: np.ndarray, sample: np.ndarray, symbol: Sequence[str], fs: float,
                   tolerance_s: float = 0.15) -> tuple[str, ...]:
    """The class of each annotated beat that no detected beat matches (`annotated_classes`' matching): the beats
    a sensitivity must count as missed."""
    syms, match = _matched(detected, sample, symbol, fs, tolerance_s)
    return tuple(SYMBOL_CLASS.get(syms[i], "Q") for i in sorted(set(range(len(syms))) - set(match.tolist())))


def _matched(detected: np.ndarray, sample: np.ndarray, symbol: Sequence[str], fs: float,
             tolerance_s: float) -> tuple[list[str], np.ndarray]:
    from anyecg.signal.intervals import BEAT_SYMBOLS

    keep = [i for i, s in enumerate(symbol) if s in BEAT_SYMBOLS]
    ref, syms = np.asarray(sample)[keep], [symbol[i] for i in keep]
    return syms, match_beats(np.asarray(detected), ref, int(tolerance_s * fs))
