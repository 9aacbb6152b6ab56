"""Tables of samples: CSV/TSV (lead names in the header, optional time column) and NumPy `.npy`/`.npz`."""

from __future__ import annotations

import csv
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np

from anyecg.errors import ECGFileError, MissingRateError, SignalError, UnsupportedFormatError
from anyecg.io.common import (
    ReadOptions,
    RecordInfo,
    check_fs,
    check_size,
    info_from_record,
    make_info,
    make_record,
    select_channels,
    unit_scale,
    window,
)
from anyecg.io.record import ECGRecord
from anyecg.leads import CANONICAL_LEADS, N_LEADS

_TIME_S = re.compile(r"^(time|t|secs?|seconds|elapsed|timestamp)\s*(\[s\]|\(s\)|_s)?$", re.I)
_TIME_MS = re.compile(r"^((time|t|elapsed|timestamp)\s*(\[ms\]|\(ms\)|_ms)|ms|msec)$", re.I)
_UNIT_SUFFIX = re.compile(r"^(.*?)\s*[\[(]\s*([µμu]?V|mV|nV)\s*[\])]$", re.I)


def _kind(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(6)
    return "npy" if head.startswith(b"\x93NUMPY") else "npz" if head.startswith(b"PK") else "csv"


def read_info(path: Path, opts: ReadOptions) -> RecordInfo:
    kind = _kind(path)
    if kind == "npy":
        arr, names, fs, _ = _npy(path, opts)
        channels = select_channels(names, opts, path)
        return make_info(path, "npy", check_fs(fs, opts, path), arr.shape[1], channels)
    if kind == "npz":  # from the array header: nothing is decompressed
        shape, fs, names = _npz_header(path, opts)
        channels = select_channels(names, opts, path)
        return make_info(path, "npz", check_fs(fs, opts, path), shape[1], channels)
    return info_from_record(read(path, opts))


def read(path: Path, opts: ReadOptions) -> ECGRecord:
    kind = _kind(path)
    if kind == "csv":
        data, names, fs, units = _csv(path, opts)
    else:
        data, names, fs, units = _npy(path, opts) if kind == "npy" else _npz(path, opts)
    channels = select_channels(names, opts, path)
    fs = check_fs(fs, opts, path)
    start, stop = window(data.shape[1], fs, opts, path)
    rows = list(channels.index)
    scale = np.array([unit_scale(units[i], path, names[i]) for i in rows], dtype=np.float32)
    signal = np.asarray(data[rows, start:stop], dtype=np.float32) * scale[:, None]
    meta = {"units": [units[i] or "mV" for i in rows]}
    if kind != "csv":
        meta["dtype"] = str(data.dtype)
    return make_record(path, kind, signal, fs, channels, offset=start, metadata=meta)


# ---- NumPy -------------------------------------------------------------------------------------------------


def _transposed(shape: tuple[int, ...], path: Path) -> bool:
    """Whether an array of this shape is [samples, leads]: the side with ≤ 12 entries holds the leads."""
    if len(shape) != 2:
        raise SignalError(f"array has shape {shape}; expected 2-D [leads, samples] or [samples, leads]", path)
    leads, samples = shape
    if leads > N_LEADS and samples > N_LEADS:
        raise SignalError(f"array has shape {shape}: neither side has ≤ {N_LEADS} leads", path)
    return leads > N_LEADS


def _check_dtype(dtype: np.dtype, path: Path) -> None:
    if not np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.complexfloating):
        raise ECGFileError(f"array has dtype {dtype}; expected real numbers", path)


def _orient(arr: np.ndarray, path: Path, opts: ReadOptions) -> np.ndarray:
    """[leads, samples] from either orientation, its size checked against `opts.max_values`."""
    transposed = _transposed(arr.shape, path)
    _check_dtype(arr.dtype, path)
    check_size(1, arr.size, opts, path)
    return arr.T if transposed else arr


def _default_names(n: int) -> list[str]:
    """12 rows are the standard order I..V6; other counts need --lead-map 'ch1=II,...'."""
    return list(CANONICAL_LEADS) if n == N_LEADS else [f"ch{i + 1}" for i in range(n)]


def _npy(path: Path, opts: ReadOptions):
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as err:
        raise ECGFileError(f"unreadable .npy file: {err}", path) from err
    arr = _orient(arr, path, opts)
    if opts.fs is None:
        raise MissingRateError(".npy files store no sampling rate; give one with --fs / fs=", path)
    return arr, _default_names(arr.shape[0]), None, [""] * arr.shape[0]


_NPZ_SMALL = 4096  # entries of `fs` / `leads` beyond this are not an ECG's
MAX_COMPRESSION = 1000  # a member that inflates more than this (and beyond 64 MB) is a zip bomb, not an ECG


def _member_shape(zf: zipfile.ZipFile, key: str, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from the header of one .npz member, without decompressing its data; the data the
    header promises must fit in the member (numpy allocates it before reading)."""
    member = zf.getinfo(f"{key}.npy")
    if member.file_size > max(64 << 20, MAX_COMPRESSION * member.compress_size):
        raise ECGFileError(f"'{key}' inflates from {member.compress_size} to {member.file_size} bytes: refused as "
                           "a zip bomb", path)
    with zf.open(member) as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(f)
    shape = tuple(int(n) for n in shape)
    if int(np.prod(shape, dtype=object)) * dtype.itemsize > member.file_size:
        raise ECGFileError(f"'{key}' header promises shape {shape} of {dtype} but the member holds only "
                           f"{member.file_size} bytes", path)
    return shape, dtype


def _npz_header(path: Path, opts: ReadOptions):
    """(shape [leads, samples], fs, lead names) of an .npz from its headers; small members are read."""
    try:
        with zipfile.ZipFile(path) as zf:
            keys = [n[:-4] for n in zf.namelist() if n.endswith(".npy")]
            if "signal" not in keys:
                raise ECGFileError(f".npz has keys {sorted(keys)}; expected 'signal' (+ 'fs', 'leads')", path)
            shape, dtype = _member_shape(zf, "signal", path)
            transposed = _transposed(shape, path)
            _check_dtype(dtype, path)
            check_size(1, int(np.prod(shape)), opts, path)
            for key in ("fs", "leads"):
                if key in keys and int(np.prod(_member_shape(zf, key, path)[0])) > _NPZ_SMALL:
                    raise ECGFileError(f"'{key}' holds more than {_NPZ_SMALL} values", path)
        shape = shape[::-1] if transposed else shape
        with np.load(path, allow_pickle=False) as z:
            fs = float(np.asarray(z["fs"]).reshape(-1)[0]) if "fs" in keys else None
            names = _names(z["leads"], path) if "leads" in keys else _default_names(shape[0])
    except (ECGFileError, SignalError):
        raise
    except Exception as err:
        raise ECGFileError(f"unreadable .npz file: {type(err).__name__}: {err}", path) from err
    if len(names) != shape[0]:
        raise SignalError(f"{len(names)} lead names for {shape[0]} signal rows", path)
    return shape, fs, names


def _names(leads: np.ndarray, path: Path) -> list[str]:
    """Lead names from an .npz `leads` array; ECGFileError when they are not text."""
    try:
        names = [str(n) for n in np.asarray(leads).reshape(-1)]
        for name in names:
            name.encode("utf-8")
    except (SystemError, ValueError, UnicodeError) as err:
        raise ECGFileError(f"'leads' holds names that are not text: {type(err).__name__}", path) from err
    return names


def _npz(path: Path, opts: ReadOptions):
    _, fs, names = _npz_header(path, opts)
    try:
        with np.load(path, allow_pickle=False) as z:
            arr = _orient(z["signal"], path, opts)
    except (ECGFileError, SignalError):
        raise
    except Exception as err:
        raise ECGFileError(f"unreadable .npz file: {type(err).__name__}: {err}", path) from err
    return arr, names, fs, [""] * arr.shape[0]


# ---- CSV / TSV ---------------------------------------------------------------------------------------------


def _csv(path: Path, opts: ReadOptions):
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        first = f.readline()
        delimiter = _delimiter(first, path)
        header = first.split() if delimiter == " " else next(csv.reader([first], delimiter=delimiter))
        header = [c.strip() for c in header]
        check_size(_count_lines(path), len(header), opts, path)
        # With ';' or tab between values a ',' can only be a decimal comma (European spreadsheets).
        lines = (line.replace(",", ".") for line in f) if delimiter in (";", "\t") else f
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # "input contained no data": checked below
                data = np.loadtxt(lines, delimiter=None if delimiter == " " else delimiter, ndmin=2)
        except ValueError as err:
            f.seek(0)
            _raise_bad_cell(f, delimiter, header, path)
            raise ECGFileError(f"unreadable table: {err}", path) from err
    if all(_is_number(c) for c in header):
        raise ECGFileError("the first line must name the columns (leads, optionally a time column)", path)
    if data.size == 0:
        raise SignalError("the table has a header but no samples", path)
    if data.shape[1] != len(header):
        raise ECGFileError(f"the header names {len(header)} columns but rows have {data.shape[1]}", path)
    fs, time_col = None, None
    for i, name in enumerate(header):
        if _TIME_S.match(name) or _TIME_MS.match(name):
            time_col = i
            if opts.fs is None:
                fs = _fs_from_time(data[:, i] / (1000.0 if _TIME_MS.match(name) else 1.0), path)
            break
    names, units = [], []
    for i, name in enumerate(header):
        if i == time_col:
            continue
        m = _UNIT_SUFFIX.match(name)
        names.append(m.group(1) if m else name)
        units.append(m.group(2) if m else "")
    cols = [i for i in range(len(header)) if i != time_col]
    return data[:, cols].T, names, fs, units


def _count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _delimiter(line: str, path: Path) -> str:
    for d in ("\t", ",", ";"):
        if d in line:
            return d
    if line.strip():
        return " " if " " in line.strip() else ","
    raise UnsupportedFormatError("empty file", path)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _raise_bad_cell(f, delimiter: str, header: list[str], path: Path) -> None:
    """Find the first cell that is not a number and name its line and column."""
    reader = csv.reader(f, delimiter=delimiter, skipinitialspace=True)
    next(reader, None)
    numeric_rows = 0
    for line_no, row in enumerate(reader, start=2):
        if delimiter in (";", "\t"):  # decimal commas
            row = [c.replace(",", ".") for c in row]
        if not any(c.strip() for c in row):
            continue
        cells = [c for c in row if c.strip()] if delimiter == " " else row
        for col, cell in enumerate(cells):
            if not _is_number(cell):
                if numeric_rows == 0 and not any(_is_number(c) for c in cells):
                    raise UnsupportedFormatError("not a table of ECG samples (no numbers on line 2)", path)
                name = header[col] if col < len(header) else f"#{col + 1}"
                raise ECGFileError(f"line {line_no}, column {name!r}: {cell!r} is not a number", path)
        if len(cells) != len(header):
            raise ECGFileError(f"line {line_no} has {len(cells)} values, the header names {len(header)}", path)
        numeric_rows += 1


def _fs_from_time(t: np.ndarray, path: Path) -> float:
    if len(t) < 2:
        raise SignalError("one sample only: cannot derive the sampling rate from the time column", path)
    step, span = np.diff(t), t[-1] - t[0]
    if not np.all(step > 0):
        raise SignalError("the time column does not increase; sampling rate would be ≤ 0 Hz", path)
    mean_step = span / (len(t) - 1)
    if np.abs(t - (t[0] + mean_step * np.arange(len(t)))).max() > 0.5 * mean_step:
        raise SignalError("the time column is not evenly spaced; readers never resample", path)
    return round(1.0 / mean_step, 3)
