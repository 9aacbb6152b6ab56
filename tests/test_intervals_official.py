"""The paper's localization rule, checked against its 200 published MIT-BIH record 100 test rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anyecg.signal.intervals import beat_intervals, describe, format_answer

DATA = Path(__file__).parents[2] / "shared" / "data"
LISTS = DATA / "anyecg-chat-format" / "location_evaluation"
RECORD = DATA / "mitdb" / "100"
FILES = ("mit_bih_arrhythmia_test.json", "mit_bih_arrhythmia_long_test.json")

pytestmark = pytest.mark.skipif(
    not (RECORD.with_suffix(".atr").is_file() and all((LISTS / f).is_file() for f in FILES)),
    reason=f"official lists or MIT-BIH record 100 not found under {DATA} (../shared/data is absent)",
)


@pytest.fixture(scope="module")
def record100():
    from anyecg.io import read_record

    return read_record(RECORD)


@pytest.mark.parametrize("name", FILES)
def test_official_answers_reproduced_exactly(record100, name):
    rows = json.loads((LISTS / name).read_text())
    assert len(rows) == 100
    beats = record100.beats
    wrong = []
    for row in rows:
        got = format_answer(
            beat_intervals(beats.sample, beats.symbol, row["abnormal_type"], row["ecg_start"], row["ecg_end"],
                           record100.fs),
            describe(row["abnormal_type"]),
        )
        if got != row["answer"]:
            wrong.append((row["ecg_start"], row["ecg_end"], row["abnormal_type"], row["answer"], got))
    assert not wrong, wrong[:5]


def test_published_descriptions():
    """Every 'No ... Found' in the official lists (all three databases) names describe(symbol)."""
    seen = set()
    for path in LISTS.glob("*.json"):
        for row in json.loads(path.read_text()):
            if row["answer"].startswith("No "):
                assert row["answer"] == f"No {describe(row['abnormal_type'])} Found"
                seen.add(row["abnormal_type"])
    assert {"L", "R", "V", "S"} <= seen
