"""`ECGFindings`: what the machine read of one ECG (record or window) holds. Types only; no computation.

Every time is in seconds from the start of the ECG that was read (the window start for a windowed read);
`ECGFindings.start_s` gives that start on the recording's clock. Durations are in ms, amplitudes in mV, axes in
degrees. A value the read could not make is None, never 0, and `notes` says why.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Evidence:
    """Why a statement or episode was made: the leads and beats it rests on, a time range, a human-readable
    reason ("QRS 134 ms, rsR' in V1")."""

    leads: tuple[str, ...] = ()
    beats: tuple[int, ...] = ()  # indices into ECGFindings.beat_times_s
    start_s: float | None = None
    end_s: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class Statement:
    """One diagnostic statement in the project's vocabulary (`anyecg.vocabulary`), with a confidence in [0, 1].

    source: "criteria" (a measured rule), "classifier" (the learned 12-lead classifier) or "both"."""

    name: str
    confidence: float
    source: str = "criteria"
    evidence: Evidence = field(default_factory=Evidence)


@dataclass(frozen=True)
class Episode:
    """A rhythm or beat-pattern episode: kind is one of `EPISODE_KINDS`."""

    kind: str
    start_s: float
    end_s: float
    evidence: Evidence = field(default_factory=Evidence)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


# Episode kinds the rhythm reader emits (and `locate --what` accepts): one place for this list.
EPISODE_KINDS: dict[str, str] = {
    "sinus": "Sinus rhythm",
    "sinus_brady": "Sinus bradycardia",
    "sinus_tachy": "Sinus tachycardia",
    "AF": "Atrial fibrillation",
    "AFL": "Atrial flutter",
    "paced": "Pacing rhythm",
    "VT": "Ventricular tachycardia",
    "SVT": "Supraventricular tachycardia",
    "pause": "Pause",
    "bigeminy": "Ventricular bigeminy",
    "trigeminy": "Ventricular trigeminy",
}
SINUS_KINDS = ("sinus", "sinus_brady", "sinus_tachy")  # sinus rhythm at any rate: the background, not an event
# The underlying rhythm: episodes of these kinds tile a read (the others lie on top of them).
RHYTHM_KINDS = (*SINUS_KINDS, "AF", "AFL", "paced")


@dataclass(frozen=True)
class Waves:
    """Global (all-lead) delineation, one entry per beat, sample indices at the record's rate relative to the
    ECG's first sample; -1 where a wave was not found (e.g. no P wave in AF)."""

    p_on: np.ndarray
    p_peak: np.ndarray
    p_off: np.ndarray
    qrs_on: np.ndarray
    r_peak: np.ndarray
    qrs_off: np.ndarray
    t_peak: np.ndarray
    t_off: np.ndarray

    def __len__(self) -> int:
        return len(self.r_peak)


@dataclass(frozen=True)
class Measurements:
    """A cart's global measurements (medians over the ECG's beats) and per-lead amplitudes."""

    heart_rate_bpm: float | None = None
    rr_mean_ms: float | None = None
    rr_sd_ms: float | None = None
    rr_cv: float | None = None  # SD / mean of RR
    pnn50: float | None = None  # share of successive RR differences > 50 ms
    p_ms: float | None = None
    pr_ms: float | None = None
    qrs_ms: float | None = None
    qt_ms: float | None = None
    qtc_bazett_ms: float | None = None
    qtc_fridericia_ms: float | None = None
    p_axis_deg: float | None = None
    qrs_axis_deg: float | None = None
    t_axis_deg: float | None = None
    r_amp_mv: dict[str, float] = field(default_factory=dict)
    s_amp_mv: dict[str, float] = field(default_factory=dict)
    st_j60_mv: dict[str, float] = field(default_factory=dict)
    low_voltage_limb: bool | None = None
    low_voltage_precordial: bool | None = None
    flutter_wave_score: float | None = None  # regular atrial waves between the QRS complexes (`flutter.py`), ≤ 1
    flutter_rate_bpm: float | None = None  # their rate

    @property
    def qtc_ms(self) -> float | None:
        """The QTc a report prints: Bazett's (what most carts print)."""
        return self.qtc_bazett_ms


@dataclass(frozen=True)
class ECGFindings:
    """The machine read of one ECG. Computed once per record or window and shared by every step that needs it
    (prompt hints, prescreen, answer checks, scan, `anyecg measure`)."""

    source: str
    fs: float
    start_s: float  # where this ECG starts on the recording's clock
    duration_s: float
    leads: tuple[str, ...]
    lead_positions_known: bool = True  # False when channels were only named "ECG", "ECG1", ...
    beat_times_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    beat_classes: tuple[str, ...] = ()  # one of anyecg.signal.beats.BEAT_CLASSES per beat
    waves: Waves | None = None
    measurements: Measurements = field(default_factory=Measurements)
    statements: tuple[Statement, ...] = ()
    episodes: tuple[Episode, ...] = ()
    notes: tuple[str, ...] = ()  # "no beats detected", "too short for rhythm", "lead positions unknown", ...

    @property
    def n_beats(self) -> int:
        return len(self.beat_times_s)

    def statement(self, name: str) -> Statement | None:
        return next((s for s in self.statements if s.name == name), None)

    def episodes_of(self, kind: str) -> list[Episode]:
        return [e for e in self.episodes if e.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the measurements flat at the top level (`heart_rate_bpm`, `pr_ms`, `qrs_ms`, `qt_ms`,
        `qtc_ms`, `qrs_axis_deg`, ...), then `statements`, `episodes`, beats and notes."""
        m = asdict(self.measurements)
        out: dict[str, Any] = {
            "source": self.source, "fs": self.fs, "start_s": self.start_s, "duration_s": round(self.duration_s, 3),
            "leads": list(self.leads), "lead_positions_known": self.lead_positions_known,
            **{k: _clean(v) for k, v in m.items()},
            "qtc_ms": _clean(self.measurements.qtc_ms),
            "statements": [{"name": s.name, "confidence": round(s.confidence, 3), "source": s.source,
                            "evidence": _evidence(s.evidence)} for s in self.statements],
            "episodes": [{"kind": e.kind, "name": EPISODE_KINDS.get(e.kind, e.kind), "start_s": round(e.start_s, 2),
                          "end_s": round(e.end_s, 2), "evidence": _evidence(e.evidence)} for e in self.episodes],
            "n_beats": self.n_beats,
            "beats": [{"time_s": round(float(t), 3), "class": c}
                      for t, c in zip(self.beat_times_s, self.beat_classes or ("",) * self.n_beats, strict=True)],
            "notes": list(self.notes),
        }
        return out


def _clean(v: Any) -> Any:
    """JSON-safe: floats rounded, NaN → None, dicts cleaned per value."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(v) else round(float(v), 3)
    return v


def _evidence(ev: Evidence) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else _clean(v)) for k, v in asdict(ev).items()}
