"""EDF / EDF+ / BDF (Holter and home devices) through `edfio`; EDF+ annotations become events."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import edfio
import numpy as np

from anyecg.errors import AnyECGError, ECGFileError, SignalError
from anyecg.io.common import (
    ReadOptions,
    RecordInfo,
    check_fs,
    check_size,
    make_info,
    make_record,
    norm_sex,
    select_channels,
    unit_scale,
    window,
)
from anyecg.io.record import ECGRecord, Event

_CHUNK = 1 << 20  # samples decoded at a time: bounded memory for 24 h files


def _open(path: Path):
    """Parse the header (EDF data stays on disk); a file shorter than its header says → ECGFileError."""
    with open(path, "rb") as f:
        head = f.read(256)
    n_signals = head[252:256].strip()
    if len(head) < 256 or not n_signals.isdigit():
        raise ECGFileError(f"EDF/BDF header is {len(head)} bytes or its signal count {n_signals!r} is no number",
                           path)
    if int(n_signals) == 0:
        raise ECGFileError("the EDF/BDF file declares no signals", path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            edf = edfio.read_bdf(path) if _format(path) == "bdf" else edfio.read_edf(path, lazy_load_data=True)
    except Exception as err:
        raise ECGFileError(f"unreadable EDF/BDF file: {err}", path) from err
    for warning in caught:
        if "truncated" in str(warning.message) or "indicates" in str(warning.message):
            raise ECGFileError(f"truncated EDF/BDF file: {warning.message}", path)
    return edf


def _layout(edf, opts: ReadOptions, path: Path):
    """Kept channels, their common rate and length (ECG channels must share one rate)."""
    signals = edf.signals
    channels = select_channels([s.label for s in signals], opts, path)
    try:
        rates = {signals[i].label: float(signals[i].sampling_frequency) for i in channels.index}
    except (ArithmeticError, ValueError) as err:  # a data record duration of 0 or not a number
        raise ECGFileError(f"EDF/BDF header gives no sampling rate: {err}", path) from err
    if len(set(rates.values())) > 1:
        listing = ", ".join(f"{label} {fs:g} Hz" for label, fs in rates.items())
        raise SignalError(f"ECG channels have different sampling rates ({listing}); readers never "
                          "resample: drop some with --lead-map 'NAME=-'", path)
    fs = check_fs(next(iter(rates.values())), opts, path)
    first = signals[channels.index[0]]
    n_samples = int(first.samples_per_data_record) * int(edf.num_data_records)
    check_size(len(signals), n_samples, opts, path)
    return channels, fs, n_samples


def _start_time(edf) -> dt.datetime | None:
    try:
        return dt.datetime.combine(edf.startdate, edf.starttime)
    except Exception:  # anonymised or malformed date
        return None


def read_info(path: Path, opts: ReadOptions) -> RecordInfo:
    edf = _open(path)
    channels, fs, n_samples = _layout(edf, opts, path)
    return make_info(path, _format(path), fs, n_samples, channels, _start_time(edf))


def _events(edf) -> tuple[list[Event], str | None]:
    """EDF+ annotations as events; (no events, why) when the annotation bytes cannot be decoded."""
    try:
        return [Event(float(a.onset), float(a.onset) + float(a.duration or 0.0), a.text.strip())
                for a in edf.annotations if a.text.strip()], None
    except (ValueError, UnicodeDecodeError, OverflowError) as err:
        return [], f"EDF+ annotations ignored: {err}"


def _format(path: Path) -> str:
    with open(path, "rb") as f:
        return "bdf" if f.read(1) == b"\xff" else "edf"


def read(path: Path, opts: ReadOptions) -> ECGRecord:
    edf = _open(path)
    channels, fs, n_samples = _layout(edf, opts, path)
    start, stop = window(n_samples, fs, opts, path)
    signal = np.empty((len(channels.index), stop - start), dtype=np.float32)
    units = []
    try:
        for row, i in enumerate(channels.index):
            sig = edf.signals[i]
            units.append(sig.physical_dimension.strip())
            scale = unit_scale(sig.physical_dimension, path, sig.label)
            for a in range(start, stop, _CHUNK):
                b = min(a + _CHUNK, stop)
                signal[row, a - start:b - start] = sig.get_data_slice(a / fs, b / fs) * scale
    except AnyECGError:
        raise
    except Exception as err:
        raise ECGFileError(f"unreadable EDF/BDF signal data: {err}", path) from err
    meta: dict = {"units": units}
    try:
        if (sex := norm_sex(edf.patient.sex)) in ("M", "F"):
            meta["sex"] = sex
    except Exception:  # plain EDF: no structured patient field
        pass
    events, note = _events(edf)
    if note:
        meta["notes"] = [note]
    return make_record(path, _format(path), signal, fs, channels, offset=start,
                       start_time=_start_time(edf), events=sorted(events, key=lambda e: e.start_s),
                       metadata=meta)
