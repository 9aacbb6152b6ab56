"""`ECGRecord`: what every reader returns. Signal in mV, canonical leads, annotations; never resampled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from anyecg.errors import SignalError
from anyecg.leads import CANONICAL_LEADS
from anyecg.timebase import to_samples


@dataclass(frozen=True, eq=False)
class BeatAnnotations:
    """Point annotations in the record's own sample index (WFDB style).

    sample: int64 [n]; symbol: WFDB symbols ('N', 'V', '+', ...); aux_note: rhythm/ST text ('(AFIB', '(st0+', '').
    """

    sample: np.ndarray
    symbol: tuple[str, ...]
    aux_note: tuple[str, ...]

    def __post_init__(self) -> None:
        if not (len(self.sample) == len(self.symbol) == len(self.aux_note)):
            raise ValueError("sample, symbol and aux_note must have the same length")

    def __len__(self) -> int:
        return len(self.sample)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, BeatAnnotations) and np.array_equal(self.sample, other.sample)
                and self.symbol == other.symbol and self.aux_note == other.aux_note)


@dataclass(frozen=True)
class Event:
    """An interval annotation (rhythm episode, ST episode, EDF+ annotation), seconds from record start."""

    start_s: float
    end_s: float
    label: str


@dataclass(frozen=True, eq=False)
class ECGRecord:
    """One decoded ECG recording.

    signal: float32 [n_leads, n_samples] in millivolts (NaN where the file marks samples invalid).
    fs: sampling rate in Hz (> 0).
    leads: canonical lead names (see `anyecg.leads`), one per signal row, no duplicates.
    source: the file it came from; format: reader name ('wfdb', 'edf', 'csv', 'npy', 'hl7-aecg', 'ge-muse', ...).
    start_time: wall-clock start of the recording when the file has one, else None.
    offset: index (in samples of the whole recording) of signal[:, 0]; non-zero for a windowed read.
    beats: point annotations in whole-recording sample indices (None when the file has none);
    events: interval annotations in seconds from the recording start.
    diagnoses: free-text diagnosis statements or codes from the file (e.g. WFDB '#Dx', MUSE statements).
    metadata: anything else worth showing (age, sex, original lead names, dropped channels, ...).
    """

    signal: np.ndarray
    fs: float
    leads: tuple[str, ...]
    source: Path | None = None
    format: str = ""
    start_time: dt.datetime | None = None
    offset: int = 0
    beats: BeatAnnotations | None = None
    events: tuple[Event, ...] = ()
    diagnoses: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = self.source
        if self.signal.ndim != 2:
            raise SignalError(f"signal must be [leads, samples], got shape {self.signal.shape}", where)
        if self.signal.dtype != np.float32:
            object.__setattr__(self, "signal", self.signal.astype(np.float32))
        if not np.isfinite(self.fs) or self.fs <= 0:
            raise SignalError(f"sampling rate must be > 0 Hz, got {self.fs}", where)
        if self.signal.shape[1] == 0:
            raise SignalError("the signal has no samples", where)
        if self.signal.shape[0] != len(self.leads) or self.signal.shape[0] == 0:
            raise SignalError(f"{self.signal.shape[0]} signal rows but leads {list(self.leads)}", where)
        bad = [lead for lead in self.leads if lead not in CANONICAL_LEADS]
        if bad:
            raise SignalError(f"non-canonical lead names {bad}", where)

    @property
    def n_samples(self) -> int:
        return int(self.signal.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    @property
    def offset_s(self) -> float:
        return self.offset / self.fs

    def cut(self, start_s: float, end_s: float) -> ECGRecord:
        """The samples from start_s to end_s (seconds from the recording start, clamped to this record) as a record
        of their own: the offset moves with them, annotations are left out."""
        i0 = min(max(to_samples(start_s, self.fs) - self.offset, 0), self.n_samples)
        i1 = min(max(to_samples(end_s, self.fs) - self.offset, i0), self.n_samples)
        return replace(self, signal=self.signal[:, i0:i1], offset=self.offset + i0, beats=None, events=())

    def __eq__(self, other: object) -> bool:
        """Equal signals (NaN-aware), rate, leads and annotations: for write → read round trips."""
        if not isinstance(other, ECGRecord):
            return NotImplemented
        return (self.leads == other.leads and self.fs == other.fs
                and self.signal.shape == other.signal.shape
                and np.allclose(self.signal, other.signal, equal_nan=True, atol=1e-6)
                and self.beats == other.beats and self.events == other.events
                and self.diagnoses == other.diagnoses)
