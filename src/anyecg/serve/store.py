"""Where uploaded ECGs live: one private temp root per server, a folder per stored file or per request.

`FileStore` keeps `POST /v1/files` uploads (oldest removed beyond `max_files`; all removed on close).
`resolve_ecg` turns one `ECGFile` (inline bytes or a stored id) into an `anyecg.chat.ECG` on disk.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyecg.chat import ECG
from anyecg.serve.errors import APIError
from anyecg.serve.schemas import ECGFile
from anyecg.serve.settings import ServeSettings
from anyecg.serve.uploads import NamedBytes, decode_base64, info_dict, inspect, write_ecg


@dataclass
class StoredFile:
    id: str
    filename: str
    bytes: int
    created_at: int
    purpose: str
    path: Path  # the record inside the file's folder (never shown to clients)
    ecg: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "object": "file", "bytes": self.bytes, "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "ecg": self.ecg}


class FileStore:
    """Thread-safe store of uploaded ECG files under a temp root the server owns."""

    def __init__(self, settings: ServeSettings):
        self.settings = settings
        self.root = Path(tempfile.mkdtemp(prefix="anyecg-serve-"))
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._lock = threading.Lock()

    def folder(self, prefix: str) -> Path:
        """A fresh private folder (the caller removes it with `discard`)."""
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.root))

    @staticmethod
    def discard(folder: Path | None) -> None:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def add(self, parts: list[NamedBytes], purpose: str, fmt: str | None = None) -> StoredFile:
        folder = self.folder("file-")
        try:
            name = parts[0].name if parts else "ecg"
            path = write_ecg(folder, parts, fmt, self.settings.max_upload_bytes, name)
            info = inspect(path, name, self.settings.max_ecg_hours, self.settings.max_samples)
        except BaseException:
            self.discard(folder)
            raise
        entry = StoredFile(f"file-{secrets.token_hex(12)}", path.name, sum(len(p.data) for p in parts),
                           int(time.time()), purpose, path, info_dict(info))
        with self._lock:
            self._files[entry.id] = entry
            while len(self._files) > self.settings.max_files:
                _, old = self._files.popitem(last=False)
                self.discard(old.path.parent)
        return entry

    def get(self, file_id: str) -> StoredFile:
        with self._lock:
            entry = self._files.get(file_id)
        if entry is None:
            raise APIError(404, f"no file with id {file_id!r} (uploads are kept while the server runs, at most "
                           f"{self.settings.max_files})", "file_not_found")
        return entry

    def list(self) -> list[StoredFile]:
        with self._lock:
            return list(self._files.values())

    def delete(self, file_id: str) -> None:
        entry = self.get(file_id)
        with self._lock:
            self._files.pop(file_id, None)
        self.discard(entry.path.parent)

    def close(self) -> None:
        with self._lock:
            self._files.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def resolve_ecg(spec: ECGFile, store: FileStore, folder: Path, what: str) -> ECG:
    """An `ECG` for the model: a stored file, or the inline bytes written into `folder` (request-scoped)."""
    sources = [spec.file_id is not None, spec.data is not None, spec.files is not None]
    if sum(sources) != 1:
        raise APIError(400, f"{what}: give exactly one of file_id, data (base64) or files", "invalid_ecg")
    if spec.file_id is not None:
        path = store.get(spec.file_id).path
        if spec.lead_map or spec.fs:
            inspect(path, what, store.settings.max_ecg_hours, store.settings.max_samples, lead_map=spec.lead_map,
                    fs=spec.fs)
    else:
        if spec.data is not None:
            parts = [NamedBytes(spec.name or "ecg", decode_base64(spec.data, what))]
        else:
            parts = [NamedBytes(f.name, decode_base64(f.data, f"{what} file {f.name}")) for f in spec.files or []]
        sub = Path(tempfile.mkdtemp(prefix="ecg-", dir=folder))
        path = write_ecg(sub, parts, spec.format, store.settings.max_upload_bytes, what)
        inspect(path, what, store.settings.max_ecg_hours, store.settings.max_samples, lead_map=spec.lead_map,
                fs=spec.fs)
    if spec.start_s is not None and spec.end_s is not None and spec.end_s <= spec.start_s:
        raise APIError(422, f"{what}: end_s ({spec.end_s:g}) must be after start_s ({spec.start_s:g})",
                       "invalid_window")
    return ECG(path, spec.start_s, spec.end_s, tuple(spec.leads) if spec.leads else None, spec.lead_map, spec.fs,
               tuple(spec.mask_leads or ()))
