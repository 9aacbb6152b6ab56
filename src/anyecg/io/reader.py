"""`read_record` / `read_info`: pick the reader by extension and content (`anyecg.io.formats`), then decode."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from anyecg.errors import ECGFileError, RecordTooLargeError, UnsupportedFormatError
from anyecg.io.common import ReadOptions, RecordInfo
from anyecg.io.formats import BY_NAME, WFDB_COMPANIONS, FileFormat, sniff, summary
from anyecg.io.record import ECGRecord


def find_format(path: Path) -> FileFormat:
    """The format of a file (or of a WFDB record name); UnsupportedFormatError when no reader fits."""
    suffix = path.suffix.lower()
    try:
        if not path.is_file():
            if path.with_name(path.name + ".hea").is_file():
                return BY_NAME["wfdb"]
            raise ECGFileError("no such file (nor a WFDB record of that name)", path)
        if suffix in BY_NAME["wfdb"].extensions or (suffix in WFDB_COMPANIONS and path.with_suffix(".hea").is_file()):
            return BY_NAME["wfdb"]
        with open(path, "rb") as f:
            head = f.read(2048)
    except OSError as err:  # a name too long, a folder, no permission
        raise ECGFileError(f"cannot open: {err.strerror or err}", path) from err
    fmt = sniff(head, suffix)
    if fmt is None:
        raise UnsupportedFormatError(f"not an ECG file this tool can read ({summary()})", path)
    return fmt


def detect_format(path: Path) -> str:
    """The name of the file's format ('wfdb', 'edf', 'npy', 'csv', 'xml', ...)."""
    return find_format(Path(path)).name


def _decode(path: Path, opts: ReadOptions, what: str):
    """The reader's `read` or `read_info`: numpy's overflow warnings off (values beyond float32 become inf,
    then NaN, and are counted in the record's notes), MemoryError as RecordTooLargeError."""
    reader = importlib.import_module(find_format(path).module)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return getattr(reader, what)(path, opts)
    except MemoryError as err:  # a header that asks for more than the machine has (allocation fails at once)
        raise RecordTooLargeError("decoding this file needs more memory than is available", path) from err


def read_record(path: str | Path, *, lead_map: str | Mapping[str, str] | None = None,
                fs: float | None = None, start_s: float | None = None, end_s: float | None = None,
                drop_unknown: bool = False, annotations: bool | str = True,
                max_values: int | None = None) -> ECGRecord:
    """Decode an ECG file of any supported format into an `ECGRecord` (mV, canonical leads).

    lead_map: `"Resp=-,ECG A=II"` or a mapping (raw name → lead, `-` drops); fs: rate for files that
    store none (must agree otherwise); start_s/end_s: read only this window (seconds from the start;
    `record.offset` = its first sample, beat annotations stay in whole-record indices);
    drop_unknown: drop channels that fit no lead (listed in metadata['dropped_leads']) instead of
    raising LeadError; annotations: False skips them, a string picks the WFDB annotator ('atr', 'qrs');
    max_values: RecordTooLargeError when the file holds more samples (all channels) than this, checked
    from its header before anything is decoded.
    """
    path = Path(path)
    opts = ReadOptions.make(path, lead_map, fs, start_s, end_s, drop_unknown, annotations, max_values)
    return _decode(path, opts, "read")


def read_info(path: str | Path, *, lead_map: str | Mapping[str, str] | None = None,
              fs: float | None = None, drop_unknown: bool = False, max_values: int | None = None) -> RecordInfo:
    """Format, rate, length and leads of a file, from its header where the format has one (see `read_record`)."""
    path = Path(path)
    opts = ReadOptions.make(path, lead_map, fs, drop_unknown=drop_unknown, max_values=max_values)
    return _decode(path, opts, "read_info")
