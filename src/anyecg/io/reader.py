"""`read_record` / `read_info`: pick the reader by extension and content, then decode."""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from pathlib import Path

from anyecg.errors import ECGFileError, UnsupportedFormatError
from anyecg.io.common import ReadOptions, RecordInfo
from anyecg.io.record import ECGRecord

# format → reader module (each has `read(path, opts)` and `read_info(path, opts)`)
_READERS = {"wfdb": "wfdb_reader", "edf": "edf_reader", "table": "table_reader",
            "xml": "xml_reader", "mat": "mat_reader"}
_TABLE_SUFFIXES = (".csv", ".tsv")
_WFDB_COMPANIONS = (".mat", ".atr", ".qrs", ".ari", ".ecg", ".ann")  # with a .hea beside them: WFDB
_WFDB_HEADER = re.compile(rb"^\s*[\w.-]+(/\d+)?\s+\d+(\s|$)")


def detect_format(path: Path) -> str:
    """'wfdb', 'edf', 'table', 'xml' or 'mat'; UnsupportedFormatError when no reader fits."""
    suffix = path.suffix.lower()
    if not path.is_file():
        if path.with_name(path.name + ".hea").is_file():
            return "wfdb"
        raise ECGFileError("no such file (nor a WFDB record of that name)", path)
    if suffix in (".hea", ".dat") or (suffix in _WFDB_COMPANIONS and path.with_suffix(".hea").is_file()):
        return "wfdb"
    with open(path, "rb") as f:
        head = f.read(2048)
    if head.startswith((b"0       ", b"\xffBIOSEMI")):
        return "edf"
    if head.startswith((b"\x93NUMPY", b"PK\x03\x04")):
        return "table"
    if head.startswith(b"MATLAB") or suffix == ".mat":
        return "mat"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return "xml"
    if b"\x00" not in head and _is_text(head):
        if suffix in _TABLE_SUFFIXES or _looks_like_table(head):
            return "table"
        if _WFDB_HEADER.match(text):
            return "wfdb"
    raise UnsupportedFormatError("not an ECG file this tool can read (WFDB, EDF/BDF, CSV/TSV, NPY/NPZ, "
                                 "HL7 aECG or GE MUSE XML, CPSC .mat)", path)


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start > len(head) - 4  # a multi-byte character cut at the end
    return True


def _looks_like_table(head: bytes) -> bool:
    """A header line, then at least one line of numbers separated by , ; tab or spaces."""
    lines = head.decode("utf-8", "replace").splitlines()
    if len(lines) < 2:
        return False
    cells = [c for c in re.split(r"[,;\t ]+", lines[1].strip()) if c]
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return bool(cells)


def _reader(path: Path):
    return importlib.import_module(f"anyecg.io.{_READERS[detect_format(path)]}")


def read_record(path: str | Path, *, lead_map: str | Mapping[str, str] | None = None,
                fs: float | None = None, start_s: float | None = None, end_s: float | None = None,
                drop_unknown: bool = False, annotations: bool | str = True) -> ECGRecord:
    """Decode an ECG file of any supported format into an `ECGRecord` (mV, canonical leads).

    lead_map: `"Resp=-,ECG A=II"` or a mapping (raw name → lead, `-` drops); fs: rate for files that
    store none (must agree otherwise); start_s/end_s: read only this window (seconds from the start;
    `record.offset` = its first sample, beat annotations stay in whole-record indices);
    drop_unknown: drop channels that fit no lead (listed in metadata['dropped_leads']) instead of
    raising LeadError; annotations: False skips them, a string picks the WFDB annotator ('atr', 'qrs').
    """
    path = Path(path)
    opts = ReadOptions.make(path, lead_map, fs, start_s, end_s, drop_unknown, annotations)
    return _reader(path).read(path, opts)


def read_info(path: str | Path, *, lead_map: str | Mapping[str, str] | None = None,
              fs: float | None = None, drop_unknown: bool = False) -> RecordInfo:
    """Format, rate, length and leads of a file, from its header where the format has one."""
    path = Path(path)
    opts = ReadOptions.make(path, lead_map, fs, drop_unknown=drop_unknown)
    return _reader(path).read_info(path, opts)
