"""The one table of ECG file formats: name, extensions, reader, multi-file or not, how content is recognised.

`read_record` dispatches through it, the server checks upload hints and suffixes against it, and the
evaluation client names the format of the files it sends with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileFormat:
    """One format. reader: module with `read(path, opts)` and `read_info(path, opts)` (a name under `anyecg.io`,
    or a full dotted module path); multi_file: a record is several files (WFDB `.hea` + signal files +
    annotations); magic: leading bytes that identify the content; aliases: other names a client may give as a
    format hint; by_extension: the extension alone names the format (content with no signature to sniff)."""

    name: str
    extensions: tuple[str, ...]
    reader: str
    description: str
    multi_file: bool = False
    magic: tuple[bytes, ...] = ()
    aliases: tuple[str, ...] = ()
    by_extension: bool = False

    @property
    def module(self) -> str:
        """The reader's full module path."""
        return self.reader if "." in self.reader else f"anyecg.io.{self.reader}"

    @property
    def suffix(self) -> str:
        """The extension a single file of this format is written with."""
        return self.extensions[0]


FORMATS: list[FileFormat] = []
BY_NAME: dict[str, FileFormat] = {}
BY_EXTENSION: dict[str, FileFormat] = {}


def register_format(fmt: FileFormat) -> FileFormat:
    """Add a format to the table: file dispatch (`read_record`, `read_info`), the server's upload hints and the
    evaluation client know it from then on. An extension already taken stays with the format that took it."""
    FORMATS.append(fmt)
    BY_NAME.update({fmt.name: fmt, **{a: fmt for a in fmt.aliases}})
    for ext in fmt.extensions:
        BY_EXTENSION.setdefault(ext, fmt)
    return fmt


for _fmt in (
    FileFormat("wfdb", (".hea", ".dat"), "wfdb_reader", "WFDB record (.hea + .dat/.mat, annotations)",
               multi_file=True),
    FileFormat("edf", (".edf",), "edf_reader", "EDF / EDF+", magic=(b"0       ",)),
    FileFormat("bdf", (".bdf",), "edf_reader", "BioSemi BDF", magic=(b"\xffBIOSEMI",)),
    FileFormat("npy", (".npy",), "table_reader", "NumPy array [leads, samples]", magic=(b"\x93NUMPY",)),
    FileFormat("npz", (".npz",), "table_reader", "NumPy archive (signal, fs, leads)", magic=(b"PK\x03\x04",)),
    FileFormat("csv", (".csv",), "table_reader", "CSV table (header row of lead names)"),
    FileFormat("tsv", (".tsv",), "table_reader", "TSV table (header row of lead names)"),
    FileFormat("xml", (".xml",), "xml_reader", "HL7 aECG or GE MUSE XML", aliases=("hl7", "muse", "aecg")),
    FileFormat("mat", (".mat",), "mat_reader", "CPSC 2018 MATLAB file", magic=(b"MATLAB",)),
):
    register_format(_fmt)
# Files that accompany a WFDB header (CinC `.mat` signals, annotation files): WFDB when a `.hea` is beside them.
WFDB_COMPANIONS = (".mat", ".atr", ".qrs", ".ari", ".ecg", ".ann")


def summary() -> str:
    """The readable formats, for messages."""
    return ", ".join(f.description for f in FORMATS)

_WFDB_HEADER = re.compile(rb"^\s*[\w.-]+(/\d+)?\s+\d+(\s|$)")


def format_by_name(name: str) -> FileFormat | None:
    """The format for a name or alias ('edf', 'HL7', '.npy'); None when unknown."""
    key = name.strip().lower()
    return BY_NAME.get(key.lstrip(".")) or BY_EXTENSION.get(key if key.startswith(".") else f".{key}")


def format_of_suffix(path: str | Path) -> FileFormat | None:
    """The format a file's extension names, or None."""
    return BY_EXTENSION.get(Path(path).suffix.lower())


def sniff(head: bytes, suffix: str = "") -> FileFormat | None:
    """The format of a file from its first bytes (and its extension where bytes alone cannot tell)."""
    for fmt in FORMATS:
        if head.startswith(fmt.magic) and fmt.magic:
            if fmt.name == "npz" and suffix not in ("", ".npz"):
                continue  # a zip that is not an .npz: an archive of files, not one array
            return fmt
    if suffix in BY_EXTENSION and BY_EXTENSION[suffix].by_extension:
        return BY_EXTENSION[suffix]
    if suffix == ".mat":
        return BY_NAME["mat"]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        return BY_NAME["xml"]
    if b"\x00" not in head and is_text(head):
        if suffix in (".csv", ".tsv") or looks_like_table(head):
            return BY_NAME["tsv" if suffix == ".tsv" else "csv"]
        if _WFDB_HEADER.match(text):
            return BY_NAME["wfdb"]
    return None


def is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start > len(head) - 4  # a multi-byte character cut at the end
    return True


def looks_like_table(head: bytes) -> bool:
    """A header line, then at least one line of numbers separated by , ; tab or spaces (decimal commas too)."""
    lines = head.decode("utf-8", "replace").splitlines()
    if len(lines) < 2:
        return False
    line = lines[1].strip()
    cells = [c for c in re.split(r"[;\t ]+" if ";" in line or "\t" in line else r"[,;\t ]+", line) if c]
    try:
        [float(c.replace(",", ".")) for c in cells]
    except ValueError:
        return False
    return bool(cells)
