"""Background scan jobs (`POST /v1/ecg/scan`): one worker thread, progress per window, cancellable.

The model is shared with the chat endpoint: `ECGChat` generates one batch at a time, so chat requests
interleave with a running scan between its batches.
"""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyecg.chat import ECG, ECGChat
from anyecg.errors import AnyECGError
from anyecg.scan import ScanResult, scan
from anyecg.serve.errors import APIError, from_anyecg
from anyecg.serve.store import FileStore

FINISHED = ("succeeded", "failed", "cancelled")


class Cancelled(Exception):
    """Raised from the progress callback to stop a scan."""


@dataclass
class ScanJob:
    id: str
    ecg: ECG
    options: dict[str, Any]
    folder: Path | None  # request-scoped temp folder of inline bytes (removed when the job ends)
    status: str = "queued"  # queued | running | succeeded | failed | cancelled
    created_at: float = field(default_factory=time.time)
    windows_done: int = 0
    windows_total: int = 0
    result: ScanResult | None = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def to_dict(self) -> dict[str, Any]:
        fraction = self.windows_done / self.windows_total if self.windows_total else 0.0
        out: dict[str, Any] = {
            "id": self.id, "object": "ecg.scan", "status": self.status, "created_at": int(self.created_at),
            "progress": {"windows_done": self.windows_done, "windows_total": self.windows_total,
                         "fraction": round(1.0 if self.status == "succeeded" else fraction, 4)},
            "error": self.error, "result": None}
        if self.result is not None:
            result = self.result.to_dict()
            result["source"] = Path(self.result.source).name
            result["plot_url"] = f"/v1/ecg/scan/{self.id}/plot.png"
            out["result"] = result
        return out


class ScanJobs:
    def __init__(self, chat: ECGChat, store: FileStore, max_jobs: int):
        self.chat, self.store, self.max_jobs = chat, store, max_jobs
        self._jobs: dict[str, ScanJob] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anyecg-scan")

    def start(self, ecg: ECG, options: dict[str, Any], folder: Path | None) -> ScanJob:
        job = ScanJob(f"scan-{secrets.token_hex(10)}", ecg, options, folder)
        with self._lock:
            if len(self._jobs) >= self.max_jobs:  # make room: forget the oldest finished job
                done = [j for j in self._jobs.values() if j.status in FINISHED]
                if not done:
                    raise APIError(429, f"{self.max_jobs} scans are queued or running; retry later",
                                   "rate_limited", {"Retry-After": "30"})
                self._jobs.pop(min(done, key=lambda j: j.created_at).id)
            self._jobs[job.id] = job
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> ScanJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise APIError(404, f"no scan job with id {job_id!r}", "job_not_found")
        return job

    def cancel(self, job_id: str) -> ScanJob:
        job = self.get(job_id)
        job.cancel.set()
        if job.status == "queued":
            job.status = "cancelled"
        return job

    def close(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: ScanJob) -> None:
        try:
            if job.cancel.is_set():
                job.status = "cancelled"
                return
            job.status = "running"

            def on_window(done: int, total: int) -> None:
                job.windows_done, job.windows_total = done, total
                if job.cancel.is_set():
                    raise Cancelled

            job.result = scan(self.chat, job.ecg.source, leads=job.ecg.leads, lead_map=job.ecg.lead_map,
                              fs=job.ecg.fs, progress=False, on_window=on_window, **job.options)
            job.windows_done = job.windows_total = job.result.n_windows
            job.status = "succeeded"
        except Cancelled:
            job.status = "cancelled"
        except AnyECGError as err:
            job.status, job.error = "failed", from_anyecg(err).message
        except Exception as err:  # an unexpected failure is reported on the job, not lost in the thread
            job.status, job.error = "failed", f"internal error: {type(err).__name__}: {err}"
        finally:
            self.store.discard(job.folder)
