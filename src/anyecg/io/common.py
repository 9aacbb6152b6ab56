"""Shared pieces of the readers: options, channel selection, windows, units, `RecordInfo`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from anyecg.errors import ECGFileError, MissingRateError, RecordTooLargeError, SignalError, WindowError
from anyecg.io.record import BeatAnnotations, ECGRecord, Event
from anyecg.leads import ANY, DROP, assign_leads, parse_lead_map
from anyecg.timebase import to_samples

MIN_FS, MAX_FS = 1.0, 1e6  # Hz: a rate outside this is a broken header, not an ECG


def _check_rate(fs: float, path: Path, what: str = "sampling rate") -> float:
    if not math.isfinite(fs) or not MIN_FS <= fs <= MAX_FS:
        raise SignalError(f"{what} must be > 0 Hz (a rate from {MIN_FS:g} to {MAX_FS:g} Hz), got {fs:g}", path)
    return float(fs)


@dataclass(frozen=True)
class ReadOptions:
    """The `read_record` keyword options, checked once and handed to every reader."""

    lead_map: dict[str, str] = field(default_factory=dict)
    fs: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    drop_unknown: bool = False
    annotations: bool | str = True
    max_values: int | None = None  # most samples (all channels) a file may hold; checked from its header

    @classmethod
    def make(cls, path: Path, lead_map: str | Mapping[str, str] | None = None, fs: float | None = None,
             start_s: float | None = None, end_s: float | None = None, drop_unknown: bool = False,
             annotations: bool | str = True, max_values: int | None = None) -> ReadOptions:
        if fs is not None:
            _check_rate(fs, path)
        for name, value in (("start_s", start_s), ("end_s", end_s)):
            if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
                raise WindowError(f"{name} must be a finite number of seconds, got {value!r}", path)
        return cls(parse_lead_map(lead_map), fs, start_s, end_s, drop_unknown, annotations, max_values)


@dataclass(frozen=True)
class RecordInfo:
    """What a file holds, read from its header without decoding the signal.

    leads[i] is the canonical slot of raw_leads[i]; dropped_leads are channels left out
    (--lead-map NAME=- or drop_unknown).
    """

    path: Path
    format: str
    fs: float
    n_samples: int
    leads: tuple[str, ...]
    raw_leads: tuple[str, ...]
    start_time: dt.datetime | None = None
    dropped_leads: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs


@dataclass(frozen=True)
class Channels:
    """Which raw channels a read keeps, and the canonical lead of each."""

    index: tuple[int, ...]
    leads: tuple[str, ...]
    raw: tuple[str, ...]
    dropped: tuple[str, ...]
    notes: tuple[str, ...] = ()
    guessed: tuple[str, ...] = ()  # canonical leads given to generic names ("ECG"): positions unknown


def select_channels(raw_names: Sequence[str], opts: ReadOptions, path: Path) -> Channels:
    """Map raw channel names to canonical leads; drop unknown ones when asked (else LeadError)."""
    raw_names = [str(n).strip() for n in raw_names]
    lead_map = dict(opts.lead_map)
    if opts.drop_unknown:
        lead_map[ANY] = DROP
    assigned = assign_leads(raw_names, lead_map, str(path))
    slots = assigned.slots
    keep = [i for i, slot in enumerate(slots) if slot is not None]
    if not keep:
        raise SignalError(f"no ECG lead left among channels {raw_names}", path)
    return Channels(tuple(keep), tuple(slots[i] for i in keep), tuple(raw_names[i] for i in keep),
                    tuple(raw_names[i] for i, slot in enumerate(slots) if slot is None), tuple(assigned.notes),
                    tuple(s for s in assigned.guessed if s in slots))


def check_fs(file_fs: float | None, opts: ReadOptions, path: Path) -> float:
    """The sampling rate: the file's, else the `fs` option; both given must agree."""
    if file_fs is None:
        if opts.fs is None:
            raise MissingRateError("the file stores no sampling rate; give one with --fs / fs=", path)
        return float(opts.fs)
    _check_rate(file_fs, path, "the file's sampling rate")
    if opts.fs is not None and abs(opts.fs - file_fs) > 1e-6 * file_fs:
        raise SignalError(f"the file says {file_fs:g} Hz but fs={opts.fs:g} was given; "
                          "readers never resample", path)
    return float(file_fs)


def check_size(n_channels: int, n_samples: int, opts: ReadOptions, path: Path) -> None:
    """RecordTooLargeError when a header promises more values than `opts.max_values` (before decoding)."""
    if opts.max_values is not None and n_channels * n_samples > opts.max_values:
        raise RecordTooLargeError(f"the file holds {n_channels} x {n_samples} samples; at most {opts.max_values} "
                                  "samples in all are accepted here", path)


def window(n_samples: int, fs: float, opts: ReadOptions, path: Path) -> tuple[int, int]:
    """Sample range [start, stop) of the requested window; WindowError when it leaves the record."""
    if n_samples <= 0:
        raise SignalError("the signal has no samples", path)
    duration = n_samples / fs
    start_s = 0.0 if opts.start_s is None else float(opts.start_s)
    end_s = duration if opts.end_s is None else float(opts.end_s)
    half = 0.5 / fs  # rounding slack
    if start_s < 0 or end_s <= start_s or start_s >= duration or end_s > duration + half:
        raise WindowError(f"window {start_s:g}-{end_s:g} s lies outside the record (0-{duration:g} s)", path)
    start, stop = to_samples(start_s, fs), min(to_samples(end_s, fs), n_samples)
    if stop <= start:
        raise WindowError(f"window {start_s:g}-{end_s:g} s holds no sample at {fs:g} Hz", path)
    return start, stop


_UNIT_TO_MV = {"mv": 1.0, "millivolt": 1.0, "millivolts": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3,
               "microvolt": 1e-3, "microvolts": 1e-3, "nv": 1e-6, "v": 1e3, "volt": 1e3, "volts": 1e3}


def unit_scale(unit: str | None, path: Path, lead: str = "") -> float:
    """Factor that turns values in `unit` into millivolts; empty/'NU' units are taken as mV."""
    key = (unit or "").strip().lower()
    if key in ("", "nu", "n/a", "none"):
        return 1.0
    if key not in _UNIT_TO_MV:
        raise ECGFileError(f"lead {lead or '?'} is in {unit!r}, not a voltage (expected mV, uV or V)", path)
    return _UNIT_TO_MV[key]


def make_record(path: Path, fmt: str, signal: np.ndarray, fs: float, channels: Channels, *,
                offset: int = 0, start_time: dt.datetime | None = None,
                beats: BeatAnnotations | None = None, events: Sequence[Event] = (),
                diagnoses: Sequence[str] = (), metadata: Mapping | None = None) -> ECGRecord:
    """Assemble the `ECGRecord` with the metadata every reader reports."""
    meta = {"raw_leads": list(channels.raw), **dict(metadata or {})}
    if channels.dropped:
        meta["dropped_leads"] = list(channels.dropped)
    signal = np.ascontiguousarray(signal, dtype=np.float32)
    notes = list(channels.notes) + list(meta.pop("notes", []))
    if n_inf := int(np.isinf(signal).sum()):
        signal[np.isinf(signal)] = np.nan
        notes.append(f"{n_inf} infinite sample value(s) read as NaN (invalid)")
    if notes:
        meta["notes"] = notes
    if channels.guessed:
        meta["guessed_leads"] = list(channels.guessed)
    return ECGRecord(signal=signal, fs=fs, leads=channels.leads,
                     source=path, format=fmt, start_time=start_time, offset=offset, beats=beats,
                     events=tuple(events), diagnoses=tuple(diagnoses), metadata=meta)


def make_info(path: Path, fmt: str, fs: float, n_samples: int, channels: Channels,
              start_time: dt.datetime | None = None) -> RecordInfo:
    if n_samples <= 0:
        raise SignalError("the signal has no samples", path)
    return RecordInfo(path, fmt, fs, n_samples, channels.leads, channels.raw, start_time, channels.dropped,
                      channels.notes)


def info_from_record(record: ECGRecord) -> RecordInfo:
    """RecordInfo of a decoded record (for formats whose header is the whole file)."""
    meta = record.metadata
    return RecordInfo(record.source or Path(), record.format, record.fs, record.n_samples, record.leads,
                      tuple(meta.get("raw_leads", record.leads)), record.start_time,
                      tuple(meta.get("dropped_leads", ())), tuple(meta.get("notes", ())))


def norm_sex(value: object) -> str | None:
    """'Male'/'M'/'1' → 'M', 'Female'/'F' → 'F', else the text as given (None when empty)."""
    text = str(value).strip()
    low = text.lower()
    if low in ("m", "male", "man"):
        return "M"
    if low in ("f", "female", "woman"):
        return "F"
    return text or None


def parse_age(value: object) -> int | float | None:
    """Age in years as a number, None when missing/unknown."""
    try:
        age = float(str(value).strip())
    except ValueError:
        return None
    if not math.isfinite(age) or age < 0:
        return None
    return int(age) if age.is_integer() else age
