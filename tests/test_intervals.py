"""Interval rule, answer text and IoU: hand cases and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anyecg.errors import AnswerFormatError
from anyecg.io.record import Event
from anyecg.signal.intervals import (
    answer_iou,
    beat_intervals,
    describe,
    episode_intervals,
    format_answer,
    interval_iou,
    join_answers,
    merge_intervals,
    parse_answer,
)


def test_describe():
    assert describe("V") == "Premature ventricular contraction"
    assert describe("A") == "Atrial premature beat"
    assert describe("S") == "Supraventricular premature or ectopic beat (atrial or nodal)"
    assert describe("L") == "Left bundle branch block beat"
    assert describe("(AFIB") == "Atrial fibrillation"
    assert describe("AFIB") == "Atrial fibrillation"
    assert describe("(ST0+") == "ST elevation (lead 0)"
    assert describe("(st1-") == "ST depression (lead 1)"
    with pytest.raises(KeyError):
        describe("(NOSUCH")


FS = 100.0


def test_beat_rule_neighbours_are_beats_only():
    # N at 1 s, '+' at 1.5 s, V at 2 s, '~' at 2.5 s, N at 3 s: the non-beat annotations are skipped.
    sample = [100, 150, 200, 250, 300]
    symbol = ["N", "+", "V", "~", "N"]
    assert beat_intervals(sample, symbol, "V", 0, 1000, FS) == [(1.0, 3.0)]


def test_beat_rule_clips_window_and_half_open():
    sample = [100, 200, 300, 400]
    symbol = ["N", "V", "N", "V"]
    # window [150, 400): V at 200 → [100, 300] clipped to [0, 1.5] s from start; V at 400 is outside (t < end).
    assert beat_intervals(sample, symbol, "V", 150, 400, FS) == [(0.0, 1.5)]
    assert beat_intervals(sample, symbol, "V", 150, 401, FS) == [(0.0, 2.5)]  # last beat: to window end
    assert beat_intervals(sample, symbol, {"A"}, 0, 1000, FS) == []


def test_beat_rule_merges_overlapping_and_touching():
    sample = [100, 200, 300, 400, 500, 600, 700]
    # V V couplet overlaps; V N V touches at the N: both become one interval.
    assert beat_intervals(sample, list("NVVNNNN"), "V", 0, 1000, FS) == [(1.0, 4.0)]
    assert beat_intervals(sample, list("NVNVNNN"), "V", 0, 1000, FS) == [(1.0, 5.0)]
    assert beat_intervals(sample, list("NVNNVNN"), "V", 0, 1000, FS) == [(1.0, 3.0), (4.0, 6.0)]


def test_beat_rule_rounds_half_to_even():
    # 1.25 s → 1.2 and 2.55 → 2.6 (np.round); Python's round() gives 2.5 for the latter.
    sample = np.array([125, 200, 255])
    assert beat_intervals(sample, list("NVN"), "V", 0, 1000, 100.0) == [(1.2, 2.6)]


def test_beat_rule_first_and_last_beat():
    assert beat_intervals([50], ["V"], "V", 0, 300, FS) == [(0.0, 3.0)]


def test_episode_intervals():
    events = [Event(5.0, 20.0, "(AFIB"), Event(30.0, 31.0, "(AFIB"), Event(31.0, 40.0, "(AFIB"), Event(0, 100, "(N")]
    assert episode_intervals(events, "AFIB", 10.0, 35.0) == [(0.0, 10.0), (20.0, 25.0)]
    assert episode_intervals(events, ["(VT"], 0.0, 60.0) == []
    assert episode_intervals([Event(12.04, 13.06, "(ST0+")], "(st0+", 10.0, 20.0) == [(2.0, 3.1)]


def test_format_and_parse():
    assert format_answer([(1.9, 3.1), (6.8, 8.1)], "x") == "Duration: 1.9s-3.1s, 6.8s-8.1s"
    assert format_answer([], "Atrial premature beat") == "No Atrial premature beat Found"
    assert parse_answer("Duration: 1.9s-3.1s, 6.8s-8.1s") == [(1.9, 3.1), (6.8, 8.1)]
    assert parse_answer(" duration:6.8 - 8.1 ,1.9s -3.1s. ") == [(1.9, 3.1), (6.8, 8.1)]
    assert parse_answer("Duration: 3.1s-1.9s; 5s to 6s") == [(1.9, 3.1), (5.0, 6.0)]
    assert parse_answer("No Premature ventricular contraction Found") == []
    assert parse_answer("no PVC found.") == []
    for bad in ("", "Duration:", "Duration: 1.9s", "I think around two seconds", "Duration: 1.9s-3.1s, x"):
        with pytest.raises(AnswerFormatError):
            parse_answer(bad)


def test_iou_hand_cases():
    assert interval_iou([(0, 2)], [(1, 3)]) == pytest.approx(1 / 3)
    assert interval_iou([(0, 1), (1, 2)], [(0, 2)]) == pytest.approx(1.0)  # touching = one interval
    assert interval_iou([(0, 1)], [(1, 2)]) == 0.0  # touching sets do not intersect
    assert interval_iou([(0, 2)], [(0, 2), (0, 2)]) == pytest.approx(1.0)  # official code would give 2
    assert interval_iou([(0, 4)], [(1, 2), (3, 5)]) == pytest.approx(2 / 5)
    assert interval_iou([], []) == 1.0
    assert interval_iou([(0, 1)], []) == 0.0


def test_answer_iou_official_and_strict():
    neg, neg2 = "No Atrial premature beat Found", "no atrial premature beat found"
    pos = "Duration: 0.0s-2.0s"
    assert answer_iou(neg, neg) == 1.0 and answer_iou(neg, neg2) == 0.0  # official: string equality only
    assert math.isnan(answer_iou(neg, neg, exact_shortcut=False))
    assert answer_iou(neg, pos) == 0.0 and answer_iou(pos, neg, exact_shortcut=False) == 0.0
    assert answer_iou(pos, "garbage") == 0.0 and answer_iou(pos, "garbage", exact_shortcut=False) == 0.0
    assert answer_iou(pos, "Duration: 1.0s-3.0s") == pytest.approx(1 / 3)
    assert answer_iou(pos, pos, exact_shortcut=False) == 1.0
    degenerate = "Duration: 2.0s-2.0s"  # the shortcut credits it, the strict variant does not
    assert answer_iou(degenerate, degenerate) == 1.0
    assert answer_iou(degenerate, degenerate, exact_shortcut=False) == 0.0


tenths = st.integers(min_value=0, max_value=600).map(lambda k: k / 10)
interval = st.tuples(tenths, tenths).map(lambda t: (min(t), max(t)))
interval_sets = st.lists(interval, max_size=6)


@given(st.lists(st.tuples(tenths, st.integers(1, 50).map(lambda k: k / 10)), min_size=1, max_size=6))
def test_text_round_trip(pairs):
    intervals = merge_intervals((a, round(a + d, 1)) for a, d in pairs)
    text = format_answer(intervals, "Premature ventricular contraction")
    assert parse_answer(text) == intervals
    assert format_answer(parse_answer(text), "Premature ventricular contraction") == text


@given(interval_sets, interval_sets)
def test_iou_symmetric_in_unit_range(a, b):
    iou = interval_iou(a, b)
    assert 0.0 <= iou <= 1.0 + 1e-12
    assert iou == pytest.approx(interval_iou(b, a))


@given(interval_sets)
def test_iou_self_is_one(a):
    if sum(y - x for x, y in merge_intervals(a)) > 0 or not a:
        assert interval_iou(a, a) == pytest.approx(1.0)


def test_every_beat_symbol_has_a_description():
    from anyecg.signal.intervals import BEAT_SYMBOLS

    assert all(describe(s) for s in BEAT_SYMBOLS)


def test_official_iou_both_negative_needs_the_same_string() -> None:
    """The official code scores `No ... Found` pairs only by string equality (it cannot parse them)."""
    assert answer_iou("No Premature ventricular contraction Found", "No Premature ventricular contraction Found") == 1.0
    assert answer_iou("No Premature ventricular contraction Found", "No Atrial premature beat Found") == 0.0


def test_join_answers_shifts_and_merges_piece_answers():
    parts = [(0.0, "Duration: 1.0s-2.0s, 9.2s-10.0s"), (10.0, "Duration: 0.0s-0.6s"), (20.0, "No X Found")]
    assert join_answers(parts, "X") == "Duration: 1.0s-2.0s, 9.2s-10.6s"
    assert join_answers([(0.0, "No X Found"), (10.0, "No X Found")], "X") == "No X Found"
    assert join_answers([(0.0, "No X Found"), (10.0, "somewhere")], "X") is None


def test_beat_rule_counts_a_target_beat_just_before_the_window():
    # V at 0.9 s, window from 1.0 s: its interval to the next beat (1.5 s) reaches into the window → [0, 0.5] s.
    sample = [50, 90, 150, 250]
    assert beat_intervals(sample, list("NVNN"), "V", 100, 400, FS) == [(0.0, 0.5)]
    # The V before the last pre-window beat does not reach the window; nor does one whose next beat is the start.
    assert beat_intervals(sample, list("VNNN"), "V", 100, 400, FS) == []
    assert beat_intervals([50, 100, 200], list("VNN"), "V", 100, 400, FS) == []
    # A target beat after the window never counts, even when its previous beat is inside.
    assert beat_intervals([150, 250, 420], list("NNV"), "V", 100, 400, FS) == []
