"""Shared pieces of the readers: options, channel selection, windows, units, `RecordInfo`."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from anyecg.errors import ECGFileError, SignalError, WindowError
from anyecg.io.record import BeatAnnotations, ECGRecord, Event
from anyecg.leads import DROP, generic_leads, map_leads, parse_lead_map, unknown_leads
from anyecg.timebase import to_samples


@dataclass(frozen=True)
class ReadOptions:
    """The `read_record` keyword options, checked once and handed to every reader."""

    lead_map: dict[str, str] = field(default_factory=dict)
    fs: float | None = None
    start_s: float | None = None
    end_s: float | None = None
    drop_unknown: bool = False
    annotations: bool | str = True

    @classmethod
    def make(cls, path: Path, lead_map: str | Mapping[str, str] | None = None, fs: float | None = None,
             start_s: float | None = None, end_s: float | None = None, drop_unknown: bool = False,
             annotations: bool | str = True) -> ReadOptions:
        if fs is not None and (not math.isfinite(fs) or fs <= 0):
            raise SignalError(f"sampling rate must be > 0 Hz, got {fs}", path)
        return cls(parse_lead_map(lead_map), fs, start_s, end_s, drop_unknown, annotations)


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
    guessed: tuple[str, ...] = ()  # canonical leads given to generic names ("ECG"): positions unknown


def select_channels(raw_names: Sequence[str], opts: ReadOptions, path: Path) -> Channels:
    """Map raw channel names to canonical leads; drop unknown ones when asked (else LeadError)."""
    raw_names = [str(n).strip() for n in raw_names]
    lead_map = dict(opts.lead_map)
    if opts.drop_unknown:
        lead_map.update({name: DROP for name in unknown_leads(raw_names, lead_map)})
    slots = map_leads(raw_names, lead_map, str(path))
    keep = [i for i, slot in enumerate(slots) if slot is not None]
    if not keep:
        raise SignalError(f"no ECG lead left among channels {raw_names}", path)
    generic = set(generic_leads(raw_names, lead_map))
    return Channels(tuple(keep), tuple(slots[i] for i in keep), tuple(raw_names[i] for i in keep),
                    tuple(raw_names[i] for i, slot in enumerate(slots) if slot is None),
                    tuple(slots[i] for i in keep if raw_names[i] in generic))


def check_fs(file_fs: float | None, opts: ReadOptions, path: Path) -> float:
    """The sampling rate: the file's, else the `fs` option; both given must agree."""
    if file_fs is None:
        if opts.fs is None:
            raise SignalError("the file stores no sampling rate; give one with --fs / fs=", path)
        return float(opts.fs)
    if not math.isfinite(file_fs) or file_fs <= 0:
        raise SignalError(f"sampling rate must be > 0 Hz, got {file_fs}", path)
    if opts.fs is not None and abs(opts.fs - file_fs) > 1e-6 * file_fs:
        raise SignalError(f"the file says {file_fs:g} Hz but fs={opts.fs:g} was given; "
                          "readers never resample", path)
    return float(file_fs)


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
    if channels.guessed:
        meta["guessed_leads"] = list(channels.guessed)
    return ECGRecord(signal=np.ascontiguousarray(signal, dtype=np.float32), fs=fs, leads=channels.leads,
                     source=path, format=fmt, start_time=start_time, offset=offset, beats=beats,
                     events=tuple(events), diagnoses=tuple(diagnoses), metadata=meta)


def make_info(path: Path, fmt: str, fs: float, n_samples: int, channels: Channels,
              start_time: dt.datetime | None = None) -> RecordInfo:
    return RecordInfo(path, fmt, fs, n_samples, channels.leads, channels.raw, start_time, channels.dropped)


def info_from_record(record: ECGRecord) -> RecordInfo:
    """RecordInfo of a decoded record (for formats whose header is the whole file)."""
    meta = record.metadata
    return RecordInfo(record.source or Path(), record.format, record.fs, record.n_samples, record.leads,
                      tuple(meta.get("raw_leads", record.leads)), record.start_time,
                      tuple(meta.get("dropped_leads", ())))


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
