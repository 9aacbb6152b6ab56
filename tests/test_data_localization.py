"""Localization samples: the paper's rule (via signal.intervals), official rows reproduced, window invariants."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from anyecg.data.official import load_official
from anyecg.data.sources.base import rng_for
from anyecg.data.tasks.localization import LocalizationOptions, answer_for, localization_samples
from anyecg.data.templates import LOCALIZATION
from anyecg.io import read_record
from anyecg.signal.intervals import BEAT_SYMBOLS, beat_intervals, parse_answer
from test_data_helpers import write_holter


def _make(record, targets=("V", "A", "S", "L"), **kw):
    rejected: list[str] = []
    samples = localization_samples(record, source="t", key="r1", ref="t:r1", split="train", beat_targets=targets,
                                   opts=LocalizationOptions(**kw), rng=rng_for(0, "x"), reject=rejected.append)
    return samples, rejected


def _check_invariants(record, samples) -> None:
    """Every interval holds a beat of the asked type (or, at the window start, comes from the last such beat before
    the window, whose interval reaches into it); every such beat in the window lies in an interval."""
    beats = record.beats
    for s in samples:
        m = s.meta
        if m["target_kind"] != "beat":
            continue
        start, end, fs = m["start_sample"], m["end_sample"], record.fs
        intervals = parse_answer(s.answer)
        assert intervals == [tuple(iv) for iv in m["intervals"]]
        times = [(t - start) / fs for t, sym in zip(beats.sample, beats.symbol, strict=True)
                 if sym == m["abnormal_type"] and start <= t < end]
        before = [t for t, sym in zip(beats.sample, beats.symbol, strict=True)
                  if sym == m["abnormal_type"] and t < start]
        for a, b in intervals:
            assert any(a - 0.05 <= t <= b + 0.05 for t in times) or (a == 0.0 and before), (s.id, a, b)
        for t in times:
            assert any(a - 0.05 <= t <= b + 0.05 for a, b in intervals), (s.id, t)
        assert s.ecgs[0].end_s - s.ecgs[0].start_s == pytest.approx((end - start) / fs, abs=1e-5)


def test_generated_record(tmp_path: Path) -> None:
    write_holter(tmp_path, "r1")
    record = read_record(tmp_path / "r1")
    samples, rejected = _make(record)
    assert not rejected
    _check_invariants(record, samples)
    kinds = {(s.meta["window"], s.meta["abnormal_type"], bool(s.meta["intervals"])) for s in samples}
    assert ("10s", "V", True) in kinds and ("long", "A", True) in kinds
    assert ("10s", "L", False) in kinds  # absent from the record → negatives only
    assert {s.meta["abnormal_type"] for s in samples} >= {"(AFIB", "(ST0-"}  # episodes as targets
    for s in samples:
        d = s.meta["duration_s"]
        assert d == 10.0 if s.meta["window"] == "10s" else 10.0 <= d <= 60.0
        assert s.ecgs[0].leads == ("II", "V1")
        assert s.answer.startswith("Duration: ") or s.answer == f"No {s.meta['description']} Found"
        assert any(s.question.endswith(t.format(X=s.meta["description"])) for t in LOCALIZATION)
    assert len({s.id for s in samples}) == len(samples)


def test_caps_and_no_episodes(tmp_path: Path) -> None:
    write_holter(tmp_path, "r1")
    record = read_record(tmp_path / "r1")
    samples, _ = _make(record, max_pos=3, episodes=False)
    positives = [s for s in samples if s.meta["intervals"]]
    for kind in ("10s", "long"):
        for t in ("V", "A", "S"):
            assert sum(s.meta["window"] == kind and s.meta["abnormal_type"] == t for s in positives) <= 3
    assert all(s.meta["target_kind"] == "beat" for s in samples)


def test_flat_windows_rejected(tmp_path: Path) -> None:
    write_holter(tmp_path, "r1", seconds=60)
    record = read_record(tmp_path / "r1")
    record.signal[1, :] = 0.0  # a flat lead everywhere
    samples, rejected = _make(record)
    assert not samples and rejected


def test_mitdb_invariants(shared_data: Path) -> None:
    record = read_record(shared_data / "mitdb" / "208")
    samples, _ = _make(record, targets=("V", "F", "S", "A"), max_pos=15)
    assert len(samples) > 40
    _check_invariants(record, samples)
    assert set(record.beats.symbol) & BEAT_SYMBOLS >= {"V", "F"}
    for s in samples:  # the sliced fast path gives what the rule gives on the whole record
        m = s.meta
        if m["target_kind"] != "beat":
            continue
        whole = beat_intervals(record.beats.sample, record.beats.symbol, m["abnormal_type"], m["start_sample"],
                               m["end_sample"], record.fs)
        assert [list(iv) for iv in whole] == m["intervals"]


@pytest.mark.parametrize("name", ["mit_bih_arrhythmia_test.json", "mit_bih_arrhythmia_long_test.json"])
def test_official_record_100_rows_reproduced(shared_data: Path, name: str) -> None:
    path = shared_data / "anyecg-chat-format" / "location_evaluation" / name
    record = read_record(shared_data / "mitdb" / "100")
    rows = json.loads(path.read_text())
    samples = list(load_official(path))
    assert len(samples) == len(rows) == 100
    for row, sample in zip(rows, samples, strict=True):
        answer, _ = answer_for(record, row["abnormal_type"], row["ecg_start"], row["ecg_end"])
        assert answer == row["answer"], sample.id
        assert sample.ecgs[0].path == "mitdb:100" and sample.split == "test"
        assert round(sample.ecgs[0].start_s * 360) == row["ecg_start"]
        assert sample.answer == row["answer"] and sample.question == "<ecg>\n" + row["question"]


def test_rng_is_per_piece() -> None:
    a = rng_for(3, "localization", "mitdb", "100").integers(1 << 30, size=4)
    b = rng_for(3, "localization", "mitdb", "100").integers(1 << 30, size=4)
    c = rng_for(3, "localization", "mitdb", "101").integers(1 << 30, size=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
