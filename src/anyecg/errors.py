"""The errors a user can act on. Each names the file (when there is one) and the reason.

The CLI catches `AnyECGError`, prints `str(err)` on one line and exits non-zero.
"""

from __future__ import annotations

from pathlib import Path


class AnyECGError(Exception):
    """Base class: a problem the user can fix (bad file, bad option, bad request)."""

    def __init__(self, reason: str, path: str | Path | None = None):
        self.reason = reason
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class ECGFileError(AnyECGError):
    """The file is missing, truncated, malformed or not an ECG."""


class UnsupportedFormatError(ECGFileError):
    """No reader recognises the file."""


class SignalError(AnyECGError):
    """The signal is empty, all-NaN, has a bad sampling rate or shape."""


class MissingRateError(SignalError):
    """The file stores no sampling rate and none was given."""


class RecordTooLargeError(SignalError):
    """The record holds more samples than the caller allows (checked from headers, before decoding)."""


class LeadError(AnyECGError):
    """A lead name fits no canonical slot, is duplicated, or a lead selection leaves no lead."""


class WindowError(AnyECGError):
    """A requested time window lies outside the record or is too short."""


class AnswerFormatError(AnyECGError):
    """A localization answer that cannot be parsed."""


class ConfigError(AnyECGError):
    """A config file or option is invalid."""


class ModelError(AnyECGError):
    """A model or checkpoint cannot be loaded or does not match its config."""


class DataBuildError(AnyECGError):
    """A data source cannot be used to build training data."""
