"""CPSC 2018 original MATLAB files: struct `ECG` with `data` (12 x N, mV, 500 Hz), `sex`, `age`.

A WFDB-style `.mat` (CinC `val`) with its `.hea` beside it goes to the WFDB reader instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from anyecg.errors import ECGFileError, UnsupportedFormatError
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


def _field(struct, name: str):
    """A scalar/str field of a loadmat struct, or None."""
    if name not in (struct.dtype.names or ()):
        return None
    value = np.asarray(struct[name]).squeeze()
    return value.item() if value.size == 1 else (str(value) if value.dtype.kind == "U" else None)


def read_info(path: Path, opts: ReadOptions) -> RecordInfo:
    return info_from_record(read(path, opts))


def read(path: Path, opts: ReadOptions) -> ECGRecord:
    try:
        mat = scipy.io.loadmat(str(path))
    except Exception as err:
        raise ECGFileError(f"unreadable MATLAB file: {err}", path) from err
    if "ECG" not in mat:
        keys = sorted(k for k in mat if not k.startswith("__"))
        hint = " (a WFDB .mat needs its .hea beside it)" if "val" in keys else ""
        raise UnsupportedFormatError(f"MATLAB file without a CPSC 'ECG' struct (variables {keys}){hint}", path)
    ecg = mat["ECG"][0, 0]
    if "data" not in (ecg.dtype.names or ()):
        raise ECGFileError("the 'ECG' struct has no 'data' field", path)
    data = np.asarray(ecg["data"], dtype=np.float64)
    if data.ndim != 2 or data.shape[0] != len(CANONICAL_LEADS):
        raise ECGFileError(f"'ECG.data' has shape {data.shape}; CPSC 2018 stores 12 x N", path)
    channels = select_channels(CANONICAL_LEADS, opts, path)
    fs = CPSC_FS if opts.fs is None else float(opts.fs)  # the files store no rate; CPSC 2018 is 500 Hz
    start, stop = window(data.shape[1], fs, opts, path)
    meta: dict = {"units": ["mV"] * len(channels.index)}
    if (age := parse_age(_field(ecg, "age"))) is not None:
        meta["age"] = age
    if (sex := norm_sex(_field(ecg, "sex") or "")) is not None:
        meta["sex"] = sex
    return make_record(path, "cpsc-mat", data[list(channels.index), start:stop], fs, channels,
                       offset=start, metadata=meta)
