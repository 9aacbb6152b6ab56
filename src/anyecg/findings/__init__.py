"""The machine read of an ECG: delineation, measurements, rhythm episodes, beat classes and statements.

Layer: io ← signal ← findings ← data/model ← train/eval ← serve/cli. Works on the record at its own sampling rate and
in millivolts (never on the model's 100 Hz min-max input).
"""

from anyecg.findings.types import (
    EPISODE_KINDS,
    ECGFindings,
    Episode,
    Evidence,
    Measurements,
    Statement,
    Waves,
)

__all__ = ["EPISODE_KINDS", "ECGFindings", "Episode", "Evidence", "Measurements", "Statement", "Waves"]
