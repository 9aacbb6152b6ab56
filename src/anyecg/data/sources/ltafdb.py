"""Long-Term AF Database: 84 two-lead 24-25 h records, 128 Hz, beats and rhythm (AF) episodes."""

from __future__ import annotations

from anyecg.data.sources.holter import MITDB_BEATS, HolterSource

SOURCE = HolterSource(
    name="ltafdb", title="Long-Term AF Database", beat_targets=MITDB_BEATS,
    split_rule="20% by record-name hash as test",
)
