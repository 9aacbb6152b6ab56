"""European ST-T Database: 90 two-hour two-lead records, 250 Hz, beats and ST/T episodes (paper targets V, S)."""

from __future__ import annotations

from anyecg.data.sources.holter import HolterSource

SOURCE = HolterSource(
    name="edb", title="European ST-T Database", beat_targets=("V", "S", "A", "F"), official="european_st_t",
    test=frozenset({"e0104"}),  # the official localization test record
    split_rule="record e0104 (official test lists) plus 20% by record-name hash as test",
)
