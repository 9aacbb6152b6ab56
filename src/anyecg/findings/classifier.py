"""The learned 12-lead statement classifier: median-beat and RR features → one logistic regression per statement.

Features of one 12-lead ECG (any rate, any length ≥ 3 beats), all from the signal, none from the delineation:
- the median beat of each lead (0.5-40 Hz, -250..+450 ms around the R peak at 100 Hz = 70 samples) divided by the
  record's amplitude scale (the median over leads of the median beat's peak-to-peak), so shapes are comparable;
- the amplitude scale itself (log), NaN when the amplitudes are not real (LUDB), imputed to the training mean;
- rhythm: heart rate, RR CV, RMSSD / mean RR, share of successive differences > 50 ms, share of premature beats
  (RR < 85 % of the local median), and the share of premature beats whose shape differs from the median beat
  (correlation < 0.9: ventricular-looking) or not (supraventricular-looking).

Weights: `weights/findings/statement_classifier.safetensors` (feature mean/scale, coefficients, intercepts; the
statement names and training command as JSON metadata). Trained by `python -m anyecg.train.statement_classifier`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from anyecg.leads import CANONICAL_LEADS
from anyecg.signal.beats import bandpass, beat_windows, detect_beats

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "findings" / "statement_classifier.safetensors"
FEATURE_FS = 100.0
PRE_S, POST_S = 0.25, 0.45
N_WIN = round((PRE_S + POST_S) * FEATURE_FS)
LEADS12 = CANONICAL_LEADS[:12]
RHYTHM_FEATURES = ("heart_rate", "rr_cv", "rmssd_ratio", "share_dd50", "share_premature", "share_premature_wide",
                   "share_premature_narrow", "share_shape_outlier")
N_SHAPE = 12 * N_WIN  # median-beat samples come first, then the amplitude scale and the rhythm features
N_FEATURES = N_SHAPE + 1 + len(RHYTHM_FEATURES)
MIN_BEATS = 3


def has_12_leads(leads: tuple[str, ...] | list[str]) -> bool:
    return set(LEADS12) <= set(leads)


def record_features(signal: np.ndarray, fs: float, leads: tuple[str, ...] | list[str], *,
                    amplitudes_real: bool = True, beats: np.ndarray | None = None) -> np.ndarray | None:
    """float64 [N_FEATURES] of a 12-lead ECG (signal [leads, samples] in mV); None with fewer than 3 beats or
    without the 12 standard leads. `beats`: R-peak sample indices when already detected."""
    if not has_12_leads(leads):
        return None
    x = np.nan_to_num(np.asarray(signal, dtype=np.float64)[[list(leads).index(lead) for lead in LEADS12]])
    x = bandpass(x, fs)
    if beats is None:
        beats = detect_beats(x[1], fs)
    beats = np.asarray(beats, dtype=np.int64)
    inside = beats[(beats >= PRE_S * fs) & (beats < x.shape[1] - POST_S * fs)]
    if len(inside) < MIN_BEATS:
        return None
    win = beat_windows(x, fs, inside, norm="none", pre_s=PRE_S, post_s=POST_S, out_fs=FEATURE_FS, filtered=True)
    median = np.median(win, axis=0)  # [12, N_WIN]
    scale = float(np.median(np.ptp(median, axis=1))) or 1e-3
    shape = median / scale
    flat = win.reshape(len(win), -1)
    ref = median.reshape(-1)
    corr = np.array([np.corrcoef(b, ref)[0, 1] if np.std(b) > 0 else 0.0 for b in flat])
    rhythm = _rhythm(beats, fs, inside, corr)
    amp = np.log(scale) if amplitudes_real else np.nan
    return np.concatenate([shape.reshape(-1), [amp], rhythm])


def _rhythm(beats: np.ndarray, fs: float, inside: np.ndarray, corr: np.ndarray) -> np.ndarray:
    rr = np.diff(beats) / fs
    mean = float(np.mean(rr))
    dd = np.abs(np.diff(rr))
    local = np.array([np.median(rr[max(0, i - 4):i + 5]) for i in range(len(rr))])
    premature = rr < 0.85 * local  # rr[i] ends at beats[i + 1]
    ends = beats[1:]
    shape_of = dict(zip(inside.tolist(), corr.tolist(), strict=True))
    odd = np.array([shape_of.get(int(b), 1.0) < 0.9 for b in ends])
    n = len(rr)
    return np.array([60.0 / float(np.median(rr)), float(np.std(rr)) / mean,
                     float(np.sqrt(np.mean(dd ** 2))) / mean if len(dd) else 0.0,
                     float(np.mean(dd > 0.05)) if len(dd) else 0.0, float(np.mean(premature)),
                     float(np.sum(premature & odd)) / n, float(np.sum(premature & ~odd)) / n,
                     float(np.mean(corr < 0.9))])


@dataclass(frozen=True)
class StatementClassifier:
    """Standardised features → per-statement logistic regression."""

    names: tuple[str, ...]
    mean: np.ndarray  # [F]
    scale: np.ndarray  # [F]
    coef: np.ndarray  # [S, F]
    intercept: np.ndarray  # [S]
    meta: dict

    def predict(self, features: np.ndarray) -> dict[str, float]:
        """Statement name → probability, for one feature vector."""
        z = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        z = np.nan_to_num(z)  # unknown features (LUDB amplitudes) sit at the training mean
        logits = self.coef @ z + self.intercept
        return dict(zip(self.names, (1.0 / (1.0 + np.exp(-logits))).tolist(), strict=True))

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        from anyecg.atomic import atomic_path

        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"mean": self.mean.astype(np.float32), "scale": self.scale.astype(np.float32),
                   "coef": self.coef.astype(np.float32), "intercept": self.intercept.astype(np.float32)}
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata={"names": json.dumps(list(self.names)),
                                                   "meta": json.dumps(self.meta)})


def load_classifier(path: Path = DEFAULT_WEIGHTS) -> StatementClassifier:
    """The classifier saved at `path` (raises FileNotFoundError when absent)."""
    return _load(str(path))


@lru_cache(maxsize=2)
def _load(path: str) -> StatementClassifier:
    from safetensors import safe_open

    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        t = {k: f.get_tensor(k).astype(np.float64) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    clf = StatementClassifier(tuple(json.loads(meta["names"])), t["mean"], t["scale"], t["coef"], t["intercept"],
                              json.loads(meta["meta"]))
    if clf.coef.shape != (len(clf.names), N_FEATURES):
        raise ValueError(f"{path}: coefficients {clf.coef.shape} do not fit {N_FEATURES} features")
    return clf
