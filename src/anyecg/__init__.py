"""anyecg: talk to electrocardiograms (anyECG-chat, offline and at scale).

`from anyecg import ECGChat, ECG, read_record` — heavy modules (torch, transformers) load on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "ECGChat": "anyecg.chat", "ECG": "anyecg.chat", "read_record": "anyecg.io", "read_info": "anyecg.io",
    "preprocess": "anyecg.signal.preprocess", "ECGRecord": "anyecg.io.record", "AnyECGError": "anyecg.errors",
}
__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'anyecg' has no attribute {name!r}")
