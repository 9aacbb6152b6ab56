"""MIT-BIH Supraventricular Arrhythmia Database: 78 half-hour two-lead records, 128 Hz, beat annotations."""

from __future__ import annotations

from anyecg.data.sources.holter import HolterSource

SOURCE = HolterSource(
    name="svdb", title="MIT-BIH Supraventricular Arrhythmia Database",
    beat_targets=("S", "V", "F", "a", "J", "e", "j"),
    split_rule="20% by record-name hash as test",
)
