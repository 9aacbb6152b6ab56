"""CPSC 2018 original MATLAB files: struct `ECG` with `data` (12 x N, mV, 500 Hz), `sex`, `age`.

A WFDB-style `.mat` (CinC `val`) with its `.hea` beside it goes to the WFDB reader instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from anyecg.errors import ECGFileError, UnsupportedFormatError
from anyecg.io import mat5
from anyecg.io.common import (
    ReadOptions,
    RecordInfo,
    info_from_record,
    make_record,
    norm_sex,
    parse_age,
    select_channels,
    window,
)
from anyecg.io.record import ECGRecord
from anyecg.leads import CANONICAL_LEADS

CPSC_FS = 500.0


def _scalar(value: object) -> object:
    """A number or text field of the struct (1x1 arrays become their number), else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.reshape(-1)[0].item()
    return None


def read_info(path: Path, opts: ReadOptions) -> RecordInfo:
    return info_from_record(read(path, opts))


def read(path: Path, opts: ReadOptions) -> ECGRecord:
    mat = mat5.load(path, None if opts.max_values is None else opts.max_values * 8 + (1 << 20))
    ecg = mat.get("ECG")
    if not isinstance(ecg, dict):
        keys = sorted(mat)
        hint = " (a WFDB .mat needs its .hea beside it)" if "val" in keys else ""
        raise UnsupportedFormatError(f"MATLAB file without a CPSC 'ECG' struct (variables {keys}){hint}", path)
    data = ecg.get("data")
    if not isinstance(data, np.ndarray):
        raise ECGFileError("the 'ECG' struct has no numeric 'data' field", path)
    data = data.astype(np.float64, copy=False)
    if data.ndim != 2 or data.shape[0] != len(CANONICAL_LEADS):
        raise ECGFileError(f"'ECG.data' has shape {data.shape}; CPSC 2018 stores 12 x N", path)
    channels = select_channels(CANONICAL_LEADS, opts, path)
    fs = CPSC_FS if opts.fs is None else float(opts.fs)  # the files store no rate; CPSC 2018 is 500 Hz
    start, stop = window(data.shape[1], fs, opts, path)
    meta: dict = {"units": ["mV"] * len(channels.index)}
    if (age := parse_age(_scalar(ecg.get("age")))) is not None:
        meta["age"] = age
    if (sex := norm_sex(_scalar(ecg.get("sex")) or "")) is not None:
        meta["sex"] = sex
    return make_record(path, "cpsc-mat", data[list(channels.index), start:stop], fs, channels,
                       offset=start, metadata=meta)
