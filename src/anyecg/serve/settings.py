"""Server settings (one typed dataclass; the CLI fills it, tests build it directly)."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1 << 20


@dataclass(frozen=True)
class ServeSettings:
    """What `anyecg serve` is allowed to do.

    max_upload_mb: decoded ECG bytes per request / per stored file (the HTTP body may be a third larger:
    base64). max_ecg_hours: longest recording accepted; max_samples: most samples (all channels together)
    one ECG may hold, both checked from the file's header before its signal is decoded. concurrency: requests worked on at once (the model
    itself generates one batch at a time); queue: requests waiting for a slot before 429. timeout_s: per
    request, queue wait included (503 when the wait alone exceeds it, 504 when the answer does).
    """

    model_name: str = "anyecg"
    api_key: str | None = None
    max_upload_mb: float = 64.0
    max_ecg_hours: float = 48.0
    max_samples: int = 100_000_000  # samples of all channels in one ECG, checked from its header (400 MB float32)
    concurrency: int = 2
    queue: int = 16
    timeout_s: float = 120.0
    max_files: int = 64  # files kept by POST /v1/files (the oldest is removed beyond this)
    max_scan_jobs: int = 8  # scan jobs kept (running, queued or finished)
    max_tokens: int = 256  # default and upper bound of `max_tokens`

    def __post_init__(self) -> None:
        for name in ("max_upload_mb", "max_ecg_hours", "timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("concurrency", "max_files", "max_scan_jobs", "max_tokens", "max_samples"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        if self.queue < 0:
            raise ValueError(f"queue must be ≥ 0, got {self.queue}")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MB)

    @property
    def max_body_bytes(self) -> int:
        """HTTP body cap: the decoded cap in base64 plus room for the JSON around it."""
        return self.max_upload_bytes * 4 // 3 + MB
