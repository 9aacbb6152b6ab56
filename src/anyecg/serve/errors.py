"""HTTP errors in the OpenAI shape: `{"error": {"message", "type", "code"}}` with the right status."""

from __future__ import annotations

import logging
from pathlib import Path

from anyecg.errors import (
    AnyECGError,
    ECGFileError,
    LeadError,
    SignalError,
    UnsupportedFormatError,
    WindowError,
)


class APIError(Exception):
    """An error answered to the client: status, a message that names the problem, a short code."""

    def __init__(self, status: int, message: str, code: str = "invalid_request",
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}

    def body(self) -> dict:
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        return {"error": {"message": self.message, "type": kind, "code": self.code}}


def from_anyecg(err: AnyECGError) -> APIError:
    """415 for a file no reader knows, 422 for a broken file/signal/lead/window, 400 for the rest.

    The message names the file by its base name only (server temp folders stay private)."""
    message = f"{Path(err.path).name}: {err.reason}" if err.path else err.reason
    if isinstance(err, UnsupportedFormatError):
        return APIError(415, message, "unsupported_format")
    if isinstance(err, ECGFileError | SignalError | LeadError | WindowError):
        return APIError(422, message, "invalid_ecg")
    return APIError(400, message, "invalid_request")


def unreadable(err: Exception) -> APIError:
    """422 for an exception outside `AnyECGError` while an uploaded ECG is read or drawn: a reader that did
    not expect these bytes. Logged with its traceback, so that the reader can be fixed."""
    logging.getLogger("anyecg.serve").warning("ECG read failed outside AnyECGError", exc_info=err)
    return APIError(422, f"unreadable ECG file ({type(err).__name__})", "invalid_ecg")
