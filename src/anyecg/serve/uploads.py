"""Client bytes → ECG files in a server temp folder: base64, format hints, WFDB zips or named file lists.

Nothing here opens a path a client names: every name is reduced to a safe base name inside a fresh folder
that the server created, zip members are flattened the same way, and sizes are capped before writing.
"""

from __future__ import annotations

import binascii
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from anyecg.errors import AnyECGError, RecordTooLargeError, UnsupportedFormatError
from anyecg.io import read_info
from anyecg.io.common import RecordInfo
from anyecg.io.formats import BY_NAME, FileFormat, format_by_name
from anyecg.serve.errors import APIError, unreadable

# Format hints for a zip of one record's files (the record inside decides); every other hint names a format
# of `anyecg.io.formats` (or one of its aliases).
ARCHIVE_HINTS = ("wfdb-zip", "zip")
FORMAT_HINTS = (*ARCHIVE_HINTS, *sorted(BY_NAME))
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_MEMBERS = 64
_CHUNK = 1 << 20


@dataclass(frozen=True)
class NamedBytes:
    name: str
    data: bytes


def safe_name(name: str | None, default: str = "ecg") -> str:
    """The base name only, odd characters replaced, no leading dots: never a path."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _SAFE.sub("_", base).lstrip(".")[:100]
    return base or default


def decode_base64(data: str, what: str) -> bytes:
    """Strict base64 (a `data:...;base64,` prefix is allowed; padding exactly as the standard says);
    400 naming `what` when it is not."""
    if not isinstance(data, str) or not data:
        raise APIError(400, f"{what}: empty data", "invalid_base64")
    if data.startswith("data:") and "," in data:
        data = data.split(",", 1)[1]
    data = "".join(data.split())
    if len(data) % 4 or not _BASE64.match(data):
        raise APIError(400, f"{what}: data is not valid base64 (length {len(data)} is not a multiple of 4, or a "
                       "character or '=' padding is out of place)", "invalid_base64")
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError) as err:
        raise APIError(400, f"{what}: data is not valid base64 ({err})", "invalid_base64") from err


def check_format(fmt: str | None) -> str | FileFormat | None:
    """A format hint: None, an archive hint ('zip', 'wfdb-zip') or the `FileFormat` it names; 415 otherwise."""
    if fmt is None:
        return None
    key = fmt.strip().lower().lstrip(".")
    if key in ARCHIVE_HINTS:
        return key
    found = format_by_name(key)
    if found is None:
        hints = ", ".join((*ARCHIVE_HINTS, *sorted(BY_NAME)))
        raise APIError(415, f"unknown ECG format {fmt!r}; use one of {hints}", "unsupported_format")
    return found


def _unzip(blob: bytes, folder: Path, limit: int, what: str) -> list[str]:
    """Write the zip's files into `folder` (flat, safe names), streamed under a running byte cap: the sizes
    a zip declares are not trusted. Returns the names written."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise APIError(422, f"{what}: not a valid zip archive", "invalid_ecg") from err
    names: list[str] = []
    total = 0
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > MAX_MEMBERS:
            raise APIError(422, f"{what}: the zip holds {len(members)} files (at most {MAX_MEMBERS})", "invalid_ecg")
        if sum(m.file_size for m in members) > limit:
            raise APIError(413, f"{what}: the zip unpacks to more than {limit >> 20} MB", "upload_too_large")
        try:
            for m in members:
                name = _new_name(safe_name(m.filename), names, what)
                with zf.open(m) as src, open(folder / name, "wb") as dst:
                    while chunk := src.read(_CHUNK):
                        total += len(chunk)
                        if total > limit:
                            raise APIError(413, f"{what}: the zip unpacks to more than {limit >> 20} MB",
                                           "upload_too_large")
                        dst.write(chunk)
                names.append(name)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, ValueError, EOFError,
                zlib.error) as err:
            raise APIError(422, f"{what}: cannot unpack the zip ({err})", "invalid_ecg") from err
    return names


def _new_name(name: str, taken: list[str], what: str) -> str:
    if name in taken:
        raise APIError(422, f"{what}: file name {name!r} given twice", "invalid_ecg")
    return name


def _pick(folder: Path, names: list[str], what: str) -> Path:
    """The record among the written files: a WFDB header if there is one, else the only file."""
    headers = [n for n in names if n.lower().endswith(".hea")]
    if len(headers) == 1:
        return folder / headers[0]
    if len(headers) > 1:
        raise APIError(422, f"{what}: several WFDB headers ({', '.join(headers)}); send one record per ECG",
                       "invalid_ecg")
    files = [n for n in names if not n.lower().endswith((".atr", ".qrs", ".txt", ".md"))]
    if len(files) != 1:
        raise APIError(422, f"{what}: {len(files)} candidate files ({', '.join(files) or 'none'}); send one ECG "
                       "file, or a WFDB .hea with its signal files", "invalid_ecg")
    return folder / files[0]


def write_ecg(folder: Path, parts: list[NamedBytes], fmt: str | None, limit: int, what: str) -> Path:
    """Write the client's bytes into `folder` (which the server made) and return the path of the record."""
    hint = check_format(fmt)
    if sum(len(p.data) for p in parts) > limit:
        raise APIError(413, f"{what}: more than {limit >> 20} MB of ECG data", "upload_too_large")
    is_zip = len(parts) == 1 and parts[0].data[:4] == b"PK\x03\x04"
    if len(parts) == 1 and (hint in ARCHIVE_HINTS or (hint is None and is_zip
                                                       and not parts[0].name.lower().endswith(".npz"))):
        names = _unzip(parts[0].data, folder, limit, what)
    elif hint == "wfdb-zip":
        raise APIError(422, f"{what}: format 'wfdb-zip' needs one zip of the .hea and signal files", "invalid_ecg")
    else:
        one = hint if isinstance(hint, FileFormat) and not hint.multi_file and len(parts) == 1 else None
        names = []
        for p in parts:
            name = safe_name(p.name)
            if one is not None and not name.lower().endswith(one.extensions):
                name = f"{Path(name).stem or 'ecg'}{one.suffix}"
            name = _new_name(name, names, what)
            (folder / name).write_bytes(p.data)
            names.append(name)
    if not names:
        raise APIError(422, f"{what}: no file in the upload", "invalid_ecg")
    return _pick(folder, names, what)


def inspect(path: Path, what: str, max_hours: float, max_samples: int, *, lead_map: str | None = None,
            fs: float | None = None) -> RecordInfo:
    """Header facts of a written record (its sample count checked before anything is decoded); 415 when no
    reader fits, 422 when it is broken (a WFDB header without its signal files too), 413 when too long or
    too many samples."""
    try:
        info = read_info(path, lead_map=lead_map, fs=fs, max_values=max_samples)
    except RecordTooLargeError as err:
        raise APIError(413, f"{what}: {err.reason}", "ecg_too_long") from err
    except UnsupportedFormatError as err:
        raise APIError(415, f"{what}: {err.reason}", "unsupported_format") from err
    except AnyECGError as err:
        raise APIError(422, f"{what}: {err.reason}", "invalid_ecg") from err
    except (ArithmeticError, ValueError, TypeError, IndexError, KeyError, OSError) as err:
        api = unreadable(err)
        raise APIError(422, f"{what}: {api.message}", api.code) from err
    if info.duration_s > max_hours * 3600:
        raise APIError(413, f"{what}: the recording lasts {info.duration_s / 3600:.1f} h; this server takes at "
                       f"most {max_hours:g} h", "ecg_too_long")
    return info


def info_dict(info: RecordInfo) -> dict:
    return {"format": info.format, "fs": info.fs, "n_samples": info.n_samples,
            "duration_s": round(info.duration_s, 3), "leads": list(info.leads),
            "start_time": info.start_time.isoformat() if info.start_time else None, "notes": list(info.notes)}
