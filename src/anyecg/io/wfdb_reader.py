"""WFDB records: `.hea` + `.dat`/`.mat` (any storage format wfdb reads, multi-segment) and annotation files."""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import numpy as np
import wfdb

from anyecg.errors import ECGFileError, SignalError
from anyecg.io.common import (
    ReadOptions,
    RecordInfo,
    check_fs,
    check_size,
    make_info,
    make_record,
    norm_sex,
    parse_age,
    select_channels,
    unit_scale,
    window,
)
from anyecg.io.record import BeatAnnotations, ECGRecord, Event

SIGNAL_SUFFIXES = (".hea", ".dat", ".mat")
# Annotator extensions, most trusted first ("atr" = reference annotations).
ANNOTATORS = ("atr", "qrs", "ari", "ecg", "ann", "man", "pu", "pu0", "pu1", "atest", "sqrs", "wqrs")
_NOT_ANNOTATIONS = {"hea", "dat", "mat", "xws", "txt", "csv", "tsv", "json", "png", "pdf", "edf", "xml",
                    "npy", "npz", "zip", "gz", "md", "html", "hea-", "at_", "at-"}
# Bytes per sample of each storage format (FLAC formats 508/516/524 are compressed: not checked).
_CHUNK = 1 << 22  # samples per wfdb read (~3 h at 360 Hz)
_FORMAT_CODES = {"8", "16", "24", "32", "61", "80", "160", "212", "310", "311", "508", "516", "524"}
_MAX_HEADER_BYTES = 1 << 20
_UINT = re.compile(r"[0-9]{1,9}")  # str.isdigit() also takes '²', which int() refuses
_BYTES_PER_SAMPLE = {"8": 1, "16": 2, "61": 2, "80": 1, "160": 2, "212": 1.5, "310": 4 / 3, "311": 4 / 3,
                     "24": 3, "32": 4}


def record_name(path: Path) -> Path:
    """`.../100.hea`, `.../100.dat`, `.../100` → `.../100` (the name wfdb wants)."""
    return path.with_suffix("") if path.suffix.lower() in SIGNAL_SUFFIXES else path


def _header(path: Path):
    name = record_name(path)
    hea = name.with_name(name.name + ".hea")
    if not hea.is_file():
        raise ECGFileError(f"WFDB header {hea.name} not found", path)
    stat = hea.stat()
    return _parse_header(str(name), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _parse_header(name: str, _mtime_ns: int, _size: int):
    """wfdb's header parser is slow (pandas); windows of one record reuse it (keyed on file time and size)."""
    hea = Path(name + ".hea")
    _check_header_text(hea)
    try:
        return wfdb.rdheader(name, rd_segments=True)
    except Exception as err:
        raise ECGFileError(f"unreadable WFDB header: {type(err).__name__}: {err}", hea) from err


def _check_header_text(hea: Path) -> None:
    """What wfdb accepts silently or fails on with an unhelpful message: a rate ≤ 0 or not a number (wfdb
    takes 250 Hz), fewer signal or segment lines than declared, a storage format wfdb does not know."""
    if hea.stat().st_size > _MAX_HEADER_BYTES:
        raise ECGFileError(f"WFDB header of {hea.stat().st_size} bytes (at most {_MAX_HEADER_BYTES})", hea)
    lines = [line.strip() for line in hea.read_bytes().decode("latin-1").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        raise ECGFileError("empty WFDB header (no record line)", hea)
    fields = lines[0].split()
    n_segments = fields[0].split("/", 1)[1] if "/" in fields[0] else None
    if len(fields) < 2 or not _UINT.fullmatch(fields[1]) or (n_segments is not None and not _UINT.fullmatch(n_segments)):
        raise ECGFileError(f"record line {lines[0][:80]!r} is not 'NAME[/SEGMENTS] SIGNALS [FS [SAMPLES]]'", hea)
    if len(fields) > 2:
        rate = re.split(r"[/(]", fields[2], maxsplit=1)[0]
        try:
            fs = float(rate)
        except ValueError:
            fs = math.nan
        if not math.isfinite(fs) or fs <= 0:
            raise SignalError(f"the header's sampling rate must be > 0 Hz, got {rate!r}", hea)
    declared, kind = (int(n_segments), "segment") if n_segments is not None else (int(fields[1]), "signal")
    if len(lines) - 1 < declared:
        raise ECGFileError(f"the header declares {declared} {kind}s but has {len(lines) - 1} {kind} line(s)", hea)
    if n_segments is None:
        for i, line in enumerate(lines[1:declared + 1], start=1):
            parts = line.split()
            code = re.match(r"\d*", parts[1]).group() if len(parts) > 1 else ""
            if code not in _FORMAT_CODES:
                raise ECGFileError(f"signal line {i}: storage format {parts[1] if len(parts) > 1 else '(none)'!r} "
                                   f"is not a WFDB format ({', '.join(sorted(_FORMAT_CODES, key=int))})", hea)


def _segments(header) -> list:
    """The single-segment headers that hold signal data (one for a plain record)."""
    if isinstance(header, wfdb.MultiRecord):
        return [seg for seg in header.segments if seg is not None and seg.sig_len]
    return [header]


def _signal_names(header) -> list[str]:
    if isinstance(header, wfdb.MultiRecord):
        layout = header.segments[0] if header.layout == "variable" else _segments(header)[0]
        return list(layout.sig_name or [])
    return list(header.sig_name or [])


def _units(header) -> list[str]:
    if isinstance(header, wfdb.MultiRecord):
        layout = header.segments[0] if header.layout == "variable" else _segments(header)[0]
        return list(layout.units or [""] * layout.n_sig)
    return list(header.units or [""] * header.n_sig)


def _check_files(header, directory: Path, path: Path) -> None:
    """Missing or truncated signal files → ECGFileError (before wfdb reads garbage)."""
    try:
        _check_sizes(header, directory, path)
    except OSError as err:  # a file name too long for the file system, a folder where a file should be
        raise ECGFileError(f"cannot open a signal file named by the header: {err.strerror or err}", path) from err


def _check_sizes(header, directory: Path, path: Path) -> None:
    for seg in _segments(header):
        if not seg.file_name:
            continue
        files: dict[str, list[int]] = {}
        for i, fname in enumerate(seg.file_name):
            files.setdefault(fname, []).append(i)
        for fname, sigs in files.items():
            fpath = directory / fname
            if not fpath.is_file():
                raise ECGFileError(f"signal file {fname} named by the header is missing", path)
            fmt = str(seg.fmt[sigs[0]])
            if fmt not in _BYTES_PER_SAMPLE or seg.sig_len is None:
                continue
            spf = seg.samps_per_frame or [1] * seg.n_sig
            frame = sum((spf[i] or 1) for i in sigs) * _BYTES_PER_SAMPLE[fmt]
            offset = (seg.byte_offset[sigs[0]] or 0) if seg.byte_offset else 0
            need = offset + math.ceil(seg.sig_len * frame)
            have = fpath.stat().st_size
            if have < need:
                held = int((have - offset) / frame) if have > offset else 0
                raise ECGFileError(f"{fname} is truncated: the header says {seg.sig_len} samples "
                                   f"({need} bytes) but the file holds {have} bytes (~{held} samples)", path)


def _parse_comments(comments: list[str]) -> tuple[list[str], dict]:
    """`#Dx: a,b`, `#Age: 74`, `#Sex: Male` (CinC) or `# 69 M ...` (MIT-BIH) → diagnoses, metadata."""
    diagnoses: list[str] = []
    meta: dict = {"comments": list(comments)} if comments else {}
    for i, line in enumerate(comments):
        if m := re.match(r"^\s*([A-Za-z][\w ]*?)\s*:\s*(.*?)\s*$", line):
            key, value = m.group(1).lower(), m.group(2)
            if key == "dx":
                diagnoses += [code.strip() for code in value.split(",") if code.strip()]
            elif key == "age" and (age := parse_age(value)) is not None:
                meta["age"] = age
            elif key == "sex" and (sex := norm_sex(value)):
                meta["sex"] = sex
        elif i == 0 and (m := re.match(r"^\s*(\d+|\?+)\s+([MF?])\b", line)):
            if (age := parse_age(m.group(1))) is not None:
                meta["age"] = age
            if m.group(2) != "?":
                meta["sex"] = m.group(2)
    return diagnoses, meta


def find_annotators(name: Path) -> list[str]:
    """Annotation file extensions present beside a record, most trusted first."""
    present = {p.name[len(name.name) + 1:] for p in name.parent.glob(f"{name.name}.*")}
    present -= _NOT_ANNOTATIONS
    return [ext for ext in ANNOTATORS if ext in present] + sorted(present - set(ANNOTATORS))


def read_beats(name: Path, annotations: bool | str, path: Path) -> tuple[BeatAnnotations | None, str | None]:
    """(annotations, annotator): the chosen annotator (a str), else the first readable one present;
    (None, "EXT ignored: why") when an annotation file found beside the record holds no annotations."""
    if annotations is False:
        return None, None
    if isinstance(annotations, str):
        if not name.with_name(f"{name.name}.{annotations}").is_file():
            raise ECGFileError(f"annotation file {name.name}.{annotations} not found", path)
        candidates = [annotations]
    else:
        candidates = find_annotators(name)
    for ext in candidates:
        ann_path = name.with_name(f"{name.name}.{ext}")
        stat = ann_path.stat()
        try:
            beats = _read_ann(str(name), ext, stat.st_mtime_ns, stat.st_size)
        except Exception as err:
            if isinstance(annotations, str) or ext in ANNOTATORS:
                raise ECGFileError(f"unreadable annotation file {ann_path.name}: {type(err).__name__}: {err}",
                                   path) from err
            continue
        if problem := _implausible(beats):
            if isinstance(annotations, str):
                raise ECGFileError(f"annotation file {ann_path.name} is not WFDB annotations: {problem}", path)
            return None, f"{ext} ignored: {problem}"
        return beats, ext
    return None, None


def _implausible(beats: BeatAnnotations) -> str | None:
    """Why bytes that wfdb decoded are not annotations (codes no annotation has, time running backwards)."""
    unknown = sum(1 for s in beats.symbol if s == "nan")
    if unknown:
        return f"{unknown} of {len(beats)} annotation codes are undefined"
    if len(beats) and (np.any(np.diff(beats.sample) < 0) or beats.sample[0] < 0):
        return "annotation times run backwards"
    return None


@functools.lru_cache(maxsize=64)
def _read_ann(name: str, ext: str, _mtime_ns: int, _size: int) -> BeatAnnotations:
    """wfdb.rdann is slow (~0.1 s for 30 min of MIT-BIH): windows of one record share one parse."""
    ann = wfdb.rdann(name, ext)
    aux = tuple((a or "").strip("\x00").strip() for a in (ann.aux_note or [""] * len(ann.sample)))
    sample = np.asarray(ann.sample, dtype=np.int64)
    sample.flags.writeable = False  # shared between records through the cache
    return BeatAnnotations(sample, tuple(ann.symbol), aux)


def annotation_events(beats: BeatAnnotations, fs: float, n_samples: int) -> list[Event]:
    """Rhythm episodes (`+` with `(AFIB`: until the next rhythm change or the end) and
    episodes opened by `(X` and closed by `X)` (ST/T changes such as `(st0+` ... `st0+)`)."""
    events: list[Event] = []
    rhythm: tuple[str, int] | None = None
    open_eps: dict[str, tuple[str, int]] = {}
    noted = [i for i, aux in enumerate(beats.aux_note) if aux]
    for sample, symbol, aux in ((int(beats.sample[i]), beats.symbol[i], beats.aux_note[i]) for i in noted):
        if symbol == "+" and aux.startswith("("):
            if rhythm is not None and rhythm[0] == aux:
                continue
            if rhythm is not None:
                events.append(Event(rhythm[1] / fs, sample / fs, rhythm[0]))
            rhythm = (aux, sample)
        elif aux.startswith("(") and len(aux) > 1:
            open_eps.setdefault(aux[1:].lower(), (aux, sample))
        elif aux.endswith(")") and (start := open_eps.pop(aux[:-1].lower(), None)):
            events.append(Event(start[1] / fs, sample / fs, start[0]))
    end = n_samples / fs
    for label, start_sample in ([rhythm] if rhythm else []) + list(open_eps.values()):
        events.append(Event(start_sample / fs, max(end, start_sample / fs), label))
    return sorted(events, key=lambda e: (e.start_s, e.end_s, e.label))


def read_info(path: Path, opts: ReadOptions) -> RecordInfo:
    header = _header(path)
    channels = select_channels(_signal_names(header), opts, path)
    fs = check_fs(header.fs, opts, path)
    check_size(len(_signal_names(header)), int(header.sig_len or 0), opts, path)
    _check_files(header, record_name(path).parent, path)
    start_time = header.base_datetime if getattr(header, "base_date", None) else None
    return make_info(path, "wfdb", fs, int(header.sig_len or 0), channels, start_time)


def _read_chunk(name: Path, start: int, stop: int, channels: list[int], path: Path) -> np.ndarray:
    """Physical samples [stop - start, channels] (float32, NaN where invalid)."""
    try:
        rec = wfdb.rdrecord(str(name), sampfrom=start, sampto=stop, channels=channels,
                            physical=True, m2s=True, return_res=32)
    except Exception as err:
        raise ECGFileError(f"unreadable WFDB record: {type(err).__name__}: {err}", path) from err
    if rec.p_signal is None or rec.p_signal.shape[0] != stop - start:
        got = 0 if rec.p_signal is None else rec.p_signal.shape[0]
        raise SignalError(f"read {got} samples at {start}-{stop} where the header promises {stop - start}", path)
    return rec.p_signal


def read(path: Path, opts: ReadOptions) -> ECGRecord:
    header = _header(path)
    name = record_name(path)
    raw_names = _signal_names(header)
    channels = select_channels(raw_names, opts, path)
    fs = check_fs(header.fs, opts, path)
    n_total = int(header.sig_len or 0)
    check_size(len(raw_names), n_total, opts, path)
    _check_files(header, name.parent, path)
    start, stop = window(n_total, fs, opts, path)
    all_units = _units(header)
    units = [all_units[i] if i < len(all_units) else "" for i in channels.index]
    scale = np.array([unit_scale(u, path, lead) for u, lead in zip(units, channels.raw, strict=True)],
                     dtype=np.float32)
    signal = np.empty((len(channels.index), stop - start), dtype=np.float32)
    for a in range(start, stop, _CHUNK):  # chunks: peak memory ≈ the float32 result, not several copies
        b = min(a + _CHUNK, stop)
        signal[:, a - start:b - start] = _read_chunk(name, a, b, list(channels.index), path).T
    if np.any(scale != 1):
        signal *= scale[:, None]
    beats, annotator = read_beats(name, opts.annotations, path)
    diagnoses, meta = _parse_comments(list(getattr(header, "comments", None) or []))
    meta["units"] = units
    if beats is None and annotator:
        meta["notes"] = [f"annotation file {name.name}.{annotator}"]
    elif annotator:
        meta["annotator"] = annotator
    events = annotation_events(beats, fs, n_total) if beats is not None else []
    start_time = header.base_datetime if getattr(header, "base_date", None) else None
    return make_record(path, "wfdb", signal, fs, channels, offset=start, start_time=start_time,
                       beats=beats, events=events, diagnoses=diagnoses, metadata=meta)
