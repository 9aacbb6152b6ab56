"""A synthetic 12-lead ECG with set intervals, for tests: each wave a dipole with a direction, seen by each lead
through its lead vector, shaped as half-sine lobes that start and end exactly where the intervals say."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from anyecg.leads import CANONICAL_LEADS

# lead vectors (x: left, y: inferior, z: anterior)
_H = [math.radians(a) for a in (115, 90, 70, 50, 25, 0)]  # V1..V6 in the horizontal plane
LEAD_VECTORS = np.array(
    [(1, 0, 0), (0.5, 0.87, 0), (-0.5, 0.87, 0), (-0.75, -0.43, 0), (0.75, -0.43, 0), (0, 0.87, 0)]
    + [(math.cos(a), 0, math.sin(a)) for a in _H])


@dataclass(frozen=True)
class Synthetic:
    signal: np.ndarray  # float32 [12, n] mV
    fs: float
    leads: tuple[str, ...]
    r_times_s: np.ndarray
    p_ms: float
    pr_ms: float
    qrs_ms: float
    qt_ms: float
    qrs_axis_deg: float


def _lobe(t: np.ndarray, start: float, width: float, skew: float = 1.0) -> np.ndarray:
    """A half-sine lobe over [start, start + width] seconds evaluated at times t (0 outside; steep at its ends like
    real waves); skew > 1 moves its peak later."""
    u = np.clip((t - start) / width, 0.0, 1.0)
    return np.sin(np.pi * u ** skew)


def synthetic_ecg(*, fs: float = 500.0, duration_s: float = 10.0, rr_s: float = 0.85, rr_sd_s: float = 0.0,
                  p_ms: float = 100.0, pr_ms: float = 160.0, qrs_ms: float = 90.0, qt_ms: float = 380.0,
                  p_wave: bool = True, ectopic: tuple[int, ...] = (), ectopic_qrs_ms: float = 160.0,
                  noise_mv: float = 0.01, seed: int = 0, flutter_bpm: float | None = None) -> Synthetic:
    """`ectopic`: indices of beats drawn as ventricular ectopics (no P, a wide QRS of `ectopic_qrs_ms` in another
    direction, a discordant T). `flutter_bpm`: no P waves but a saw-tooth of flutter waves at this rate, negative
    in the inferior leads (typical flutter), 0.3 mV, running through the whole record."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * fs)
    # (amplitude mV, direction, start ms from QRS onset, width ms, skew)
    q, r, s = 0.2 * qrs_ms, 0.4 * qrs_ms, 0.4 * qrs_ms
    waves = [(-0.15, (-0.4, -0.2, 0.9), 0.0, q, 1.0), (1.6, (0.55, 0.75, -0.35), q, r, 1.0),
             (-0.9, (-0.2, -0.5, -0.85), q + r, s, 1.0), (0.35, (0.6, 0.7, 0.3), qt_ms - 220.0, 220.0, 1.6)]
    if p_wave and flutter_bpm is None:
        waves.append((0.15, (0.5, 0.8, 0.3), -pr_ms, p_ms, 1.0))
    net = np.zeros(3)
    for amp, direction, _, width, _ in waves[:3]:
        net += amp * width / 2 * np.asarray(direction) / np.linalg.norm(direction)
    axis = math.degrees(math.atan2(net @ LEAD_VECTORS[5], net @ LEAD_VECTORS[0]))

    rr = np.clip(rr_s + rr_sd_s * rng.standard_normal(int(duration_s / rr_s) + 5), 0.3, 3.0)
    r_times = 0.5 + np.concatenate([[0.0], np.cumsum(rr)])
    r_times = r_times[r_times < duration_s - 0.6]
    half = ectopic_qrs_ms / 2
    pvc = [(1.8, (-0.6, -0.3, -0.7), 0.0, half, 1.0), (-1.0, (0.3, 0.6, 0.7), half, half, 1.0),
           (-0.5, (0.6, 0.7, 0.3), qt_ms + 40 - 220.0, 220.0, 1.6)]
    x = np.zeros((12, n))
    t = np.arange(n) / fs
    for k, t_r in enumerate(r_times):
        q0 = t_r - (q + r / 2) / 1000.0  # R peak in the middle of the R lobe
        if k in ectopic:
            q0 = t_r - half / 2 / 1000.0
        for amp, direction, start, width, skew in pvc if k in ectopic else waves:
            a, b = q0 + start / 1000.0, q0 + (start + width) / 1000.0
            if a < 0 or b > duration_s:
                continue
            gains = LEAD_VECTORS @ (np.asarray(direction) / np.linalg.norm(direction))
            at = slice(max(0, int(a * fs)), min(n, int(b * fs) + 2))
            x[:, at] += amp * gains[:, None] * _lobe(t[at], a, width / 1000.0, skew)[None, :]
    if flutter_bpm is not None:
        phase = (t * flutter_bpm / 60.0) % 1.0
        saw = np.where(phase < 0.8, -phase / 0.8, (phase - 1.0) / 0.2 * 1.0) + 0.5  # slow down-slope, fast return
        direction = np.array([0.2, -0.95, 0.25])
        x += 0.3 * (LEAD_VECTORS @ (direction / np.linalg.norm(direction)))[:, None] * saw[None, :]
    x += 0.1 * np.sin(2 * np.pi * 0.3 * t)[None, :] + noise_mv * rng.standard_normal(x.shape)
    return Synthetic(x.astype(np.float32), fs, CANONICAL_LEADS, r_times, p_ms, pr_ms, qrs_ms, qt_ms, axis)
