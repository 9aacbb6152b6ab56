"""MIT-BIH ST Change Database: 28 Holter excerpts, 360 Hz, beat annotations (targets V and S as in the paper)."""

from __future__ import annotations

from anyecg.data.sources.holter import HolterSource

SOURCE = HolterSource(
    name="stdb", title="MIT-BIH ST Change Database", beat_targets=("V", "S", "A", "F"), official="mit_bih_st",
    test=frozenset({"300", "303"}),  # the official localization test records
    split_rule="records 300 and 303 (official test lists) plus 20% by record-name hash as test",
)
