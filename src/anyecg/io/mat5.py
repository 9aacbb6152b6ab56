"""A small, strict MAT v5 parser (numeric arrays, char arrays, structs), for untrusted files.

scipy's loadmat parses in compiled code and can crash the process on a corrupt file (a segmentation fault
found by fuzzing); this one checks every length against its container and raises `ECGFileError` instead.
Compressed variables are inflated in a stream under a byte bound.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from anyecg.errors import ECGFileError, RecordTooLargeError

_MI_DTYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8",
              16: "u1", 17: "u2", 18: "u4"}
_MATRIX, _COMPRESSED = 14, 15
_STRUCT, _CHAR, _NUMERIC = 2, 4, range(6, 16)
MAX_COMPRESSION = 1000  # a variable that inflates more than this (and beyond 64 MB) is a zip bomb, not an ECG
MAX_DEPTH = 8


class _Bytes:
    """A bounded view of the file's bytes with the file's byte order."""

    def __init__(self, data: bytes | memoryview, order: str, path: Path):
        self.data, self.order, self.path = memoryview(data), order, path

    def fail(self, why: str) -> ECGFileError:
        return ECGFileError(f"corrupt MAT file: {why}", self.path)

    def tag(self, pos: int, end: int) -> tuple[int, int, int, int]:
        """(type, start of data, length, position after the element) of the element at `pos`."""
        if pos + 8 > end:
            raise self.fail(f"element at byte {pos} runs past its container")
        first, second = struct.unpack_from(self.order + "II", self.data, pos)
        if first >> 16:  # small element: type and length in 4 bytes, data in the next 4
            kind, length = first & 0xFFFF, first >> 16
            if length > 4:
                raise self.fail(f"small element at byte {pos} claims {length} bytes")
            return kind, pos + 4, length, pos + 8
        kind, length = first, second
        after = pos + 8 + length + (0 if kind == _COMPRESSED else -length % 8)
        if pos + 8 + length > end:
            raise self.fail(f"element at byte {pos} claims {length} bytes, its container holds {end - pos - 8}")
        return kind, pos + 8, length, min(after, end)

    def numbers(self, pos: int, end: int) -> tuple[np.ndarray, int]:
        kind, start, length, after = self.tag(pos, end)
        if kind not in _MI_DTYPES:
            raise self.fail(f"element at byte {pos} has data type {kind}, not a number type")
        dtype = np.dtype(_MI_DTYPES[kind]).newbyteorder(self.order)
        if length % dtype.itemsize:
            raise self.fail(f"{length} bytes of {dtype} at byte {pos}")
        return np.frombuffer(self.data[start:start + length], dtype=dtype), after


def _header(data: bytes, path: Path) -> str:
    if len(data) < 128 or not data.startswith(b"MATLAB"):
        raise ECGFileError("not a MATLAB v5 file (MAT v4 and v7.3/HDF5 files are not read)", path)
    order = {b"IM": "<", b"MI": ">"}.get(bytes(data[126:128]))
    if order is None:
        raise ECGFileError("MAT header has no byte-order mark", path)
    return order


def load(path: Path, max_bytes: int | None = None) -> dict[str, object]:
    """The top-level variables: numeric arrays (np.ndarray, dims as stored), str, or dict (1x1 structs).

    max_bytes bounds what one compressed variable may inflate to (besides the 1000:1 zip-bomb rule)."""
    data = path.read_bytes()
    buf = _Bytes(data, _header(data, path), path)
    out: dict[str, object] = {}
    pos = 128
    while pos + 8 <= len(data):
        kind, start, length, after = buf.tag(pos, len(data))
        if kind == _COMPRESSED:
            limit = max(64 << 20, MAX_COMPRESSION * length)
            if max_bytes is not None:
                limit = min(limit, max_bytes)
            inner = _Bytes(_inflate(buf.data[start:start + length], limit, path), buf.order, path)
            name, value = _matrix(inner, 0, len(inner.data), 0)
        elif kind == _MATRIX:
            name, value = _matrix(buf, pos, len(data), 0)
        else:
            raise buf.fail(f"top-level element of type {kind} at byte {pos}")
        out[name] = value
        pos = after
    return out


def _inflate(compressed: memoryview, limit: int, path: Path) -> bytes:
    inflater, parts, size = zlib.decompressobj(), [], 0
    chunk: bytes | memoryview = compressed
    try:
        while chunk and not inflater.eof:
            part = inflater.decompress(chunk, 1 << 20)
            size += len(part)
            if size > limit:
                raise RecordTooLargeError(f"a compressed variable inflates from {len(compressed)} to more than "
                                          f"{limit} bytes: refused", path)
            parts.append(part)
            chunk = inflater.unconsumed_tail
    except zlib.error as err:
        raise ECGFileError(f"corrupt MAT file: compressed variable: {err}", path) from err
    return b"".join(parts)


def _matrix(buf: _Bytes, pos: int, end: int, depth: int) -> tuple[str, object]:
    """(name, value) of the miMATRIX element at `pos`."""
    kind, start, length, _ = buf.tag(pos, end)
    if kind != _MATRIX:
        raise buf.fail(f"expected an array at byte {pos}, found data type {kind}")
    if depth > MAX_DEPTH:
        raise buf.fail("structs nested too deep")
    stop = start + length
    if length == 0:
        return "", np.zeros((0, 0))
    flags, pos = buf.numbers(start, stop)
    dims, pos = buf.numbers(pos, stop)
    name_bytes, pos = buf.numbers(pos, stop)
    if len(flags) < 1 or len(dims) < 2 or np.any(dims < 0):
        raise buf.fail(f"array at byte {start - 8}: flags {flags.tolist()[:2]}, dims {dims.tolist()[:4]}")
    name = name_bytes.tobytes().decode("latin-1")
    shape = tuple(int(d) for d in dims)
    count = int(np.prod(shape, dtype=object))
    cls = int(flags[0]) & 0xFF
    if cls in _NUMERIC:
        real, _ = buf.numbers(pos, stop)
        if len(real) != count:
            raise buf.fail(f"array {name!r} has {len(real)} values for dims {shape}")
        return name, real.reshape(shape, order="F")
    if cls == _CHAR:
        chars, _ = buf.numbers(pos, stop)
        if len(chars) != count:
            raise buf.fail(f"text {name!r} has {len(chars)} characters for dims {shape}")
        return name, "".join(chr(c) if c < 0x110000 else "?" for c in chars.tolist())
    if cls == _STRUCT:
        width, pos = buf.numbers(pos, stop)
        names, pos = buf.numbers(pos, stop)
        if len(width) != 1 or width[0] <= 0 or len(names) % int(width[0]):
            raise buf.fail(f"struct {name!r}: field names do not fit their width")
        w = int(width[0])
        fields = [names[i:i + w].tobytes().split(b"\0", 1)[0].decode("latin-1") for i in range(0, len(names), w)]
        if count != 1:
            return name, None  # struct arrays: not what an ECG file holds
        value: dict[str, object] = {}
        for field in fields:
            _, _, _, after = buf.tag(pos, stop)
            value[field] = _matrix(buf, pos, stop, depth + 1)[1]
            pos = after
        return name, value
    return name, None  # cells, objects, sparse: not read
