"""MIT-BIH Arrhythmia Database: 48 two-lead 30-min records, 360 Hz, beat and rhythm annotations.

Split: the standard inter-patient split of de Chazal et al. (2004): DS1 train, DS2 test; the four paced
records are left out, as in that split.
"""

from __future__ import annotations

from anyecg.data.sources.holter import MITDB_BEATS, HolterSource

DS1 = frozenset(["101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230"])
DS2 = frozenset(["100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210", "212", "213", "214", "219", "221", "222", "228", "231", "232", "233", "234"])
PACED = ("102", "104", "107", "217")

SOURCE = HolterSource(
    name="mitdb", title="MIT-BIH Arrhythmia Database", beat_targets=MITDB_BEATS, official="mit_bih_arrhythmia",
    train=DS1, test=DS2, excluded={r: "paced record, excluded from the DS1/DS2 split (de Chazal 2004)" for r in PACED},
    split_rule="inter-patient DS1 (train) / DS2 (test), de Chazal et al. 2004; paced 102, 104, 107, 217 excluded",
)
