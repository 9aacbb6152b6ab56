"""CPSC 2018 original MATLAB files: struct `ECG` with `data` (12 x N, mV, 500 Hz), `sex`, `age`.

A WFDB-style `.mat` (CinC `val`) with its `.hea` beside it goes to the WFDB reader instead.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import scipy.io

from anyecg.errors import ECGFileError, RecordTooLargeError, UnsupportedFormatError
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
MAX_COMPRESSION = 1000  # a variable that inflates more than this (and beyond 64 MB) is a zip bomb, not an ECG
_COMPRESSED = 15  # MAT v5 miCOMPRESSED


def _field(struct, name: str):
    """A scalar/str field of a loadmat struct, or None."""
    if name not in (struct.dtype.names or ()):
        return None
    value = np.asarray(struct[name]).squeeze()
    return value.item() if value.size == 1 else (str(value) if value.dtype.kind == "U" else None)


def read_info(path: Path, opts: ReadOptions) -> RecordInfo:
    return info_from_record(read(path, opts))


def _check_inflation(path: Path, opts: ReadOptions) -> None:
    """Inflate each compressed MAT v5 variable in a stream, counting bytes (scipy inflates it whole): refuse
    a zip bomb, or more bytes than `opts.max_values` float64 samples, before loading anything."""
    with open(path, "rb") as f:
        head = f.read(128)
        if len(head) < 128 or not head.startswith(b"MATLAB"):
            return  # not v5: scipy says what is wrong
        order = "<" if head[126:128] == b"IM" else ">"
        while len(tag := f.read(8)) == 8:
            kind, nbytes = struct.unpack(order + "II", tag)
            if kind != _COMPRESSED:
                f.seek(nbytes + (-nbytes % 8), 1)
                continue
            limit = max(64 << 20, MAX_COMPRESSION * nbytes)
            if opts.max_values is not None:
                limit = min(limit, opts.max_values * 8 + (1 << 20))
            inflater, size, left = zlib.decompressobj(), 0, nbytes
            while left > 0 and (chunk := f.read(min(left, 1 << 20))):
                left -= len(chunk)
                while chunk and not inflater.eof:
                    size += len(inflater.decompress(chunk, 1 << 20))
                    chunk = inflater.unconsumed_tail
                    if size > limit:
                        raise RecordTooLargeError(f"a compressed variable inflates from {nbytes} to more than "
                                                  f"{limit} bytes: refused", path)


def read(path: Path, opts: ReadOptions) -> ECGRecord:
    try:
        _check_inflation(path, opts)
    except (zlib.error, struct.error, OSError) as err:
        raise ECGFileError(f"unreadable MATLAB file: {err}", path) from err
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
    try:
        data = np.asarray(ecg["data"], dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ECGFileError(f"'ECG.data' is not numbers: {err}", path) from err
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
