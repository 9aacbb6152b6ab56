"""Checked answers: claims in answers against constructed findings, and against the read of real records."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from anyecg.checks import (
    check_answer,
    check_comparison,
    checked_ecg,
    contradicts_itself,
    disagreements,
    listing_omission_checks,
    localization_check,
    omission_checks,
    unanswered_check,
)
from anyecg.findings.answers import read_beginning
from anyecg.findings.locate import target_intervals
from anyecg.findings.summary import change_sentence, listing_sentence
from anyecg.findings.types import ECGFindings, Episode, Measurements, Statement
from anyecg.prompts import is_general_question, is_report_question


def _findings(**kw) -> ECGFindings:
    m = Measurements(heart_rate_bpm=72.0, rr_cv=0.03, pr_ms=160.0, qrs_ms=92.0, qt_ms=380.0, qtc_bazett_ms=416.0,
                     qrs_axis_deg=40.0, low_voltage_limb=False, low_voltage_precordial=False)
    times = np.arange(0.4, 10, 60 / 72)
    base = dict(source="x", fs=500.0, start_s=0.0, duration_s=10.0, leads=("I", "II"), beat_times_s=times,
                beat_classes=("N",) * len(times), measurements=m,
                statements=(Statement("Sinus rhythm", 0.9),))
    base.update(kw)
    return ECGFindings(**base)


def test_numbers_agree_within_tolerance_and_disagree_outside() -> None:
    f = _findings()
    checks = check_answer("Sinus rhythm at 75 bpm. PR interval 170 ms, QRS duration 150 ms, QTc 420 ms.", f)
    by = {c.stated.split()[0]: c for c in checks if c.kind in ("heart_rate", "interval")}
    assert by["75"].agrees and by["PR"].agrees and by["QTc"].agrees
    assert not by["QRS"].agrees and by["QRS"].measured == "QRS 92 ms"
    assert [c.stated for c in disagreements(checks)] == ["QRS 150 ms"]


@pytest.mark.parametrize(("answer", "contradicts"), [
    ("No atrial fibrillation.", False), ("No, the ECG shows no atrial fibrillation.", False),
    ("Yes, atrial fibrillation.", False), ("No, the rhythm is regular.", False), ("Sinus rhythm.", False),
    ("No, atrial fibrillation.", True), ("No, the ECG shows atrial fibrillation.", True), ("Yes, no PVCs.", True)])
def test_yes_no_answers_that_contradict_themselves(answer: str, contradicts: bool) -> None:
    assert contradicts_itself(answer) is contradicts


def test_heart_rate_wrong_is_flagged() -> None:
    (c,) = [c for c in check_answer("The heart rate is 130 bpm.", _findings()) if c.kind == "heart_rate"]
    assert not c.agrees and c.measured == "72 bpm"
    assert "130" in c.line() and "72" in c.line()


def test_rate_word_without_number_next_to_it_is_not_a_rate() -> None:
    assert [c for c in check_answer("The rate is regular, QRS 90 ms.", _findings()) if c.kind == "heart_rate"] == []


def test_statements_against_measurements() -> None:
    f = _findings()
    checks = {c.stated: c for c in check_answer("Atrial fibrillation with RBBB and first-degree AV block.", f)}
    assert not checks["Atrial fibrillation"].agrees
    assert not checks["Right bundle branch block"].agrees and "QRS 92 ms" in checks["Right bundle branch block"].measured
    assert not checks["First degree AV block"].agrees
    ok = {c.stated: c for c in check_answer("Normal sinus rhythm, no atrial fibrillation.", f)}
    assert ok["Sinus rhythm"].agrees and ok["no Atrial fibrillation"].agrees


def test_af_claims_against_af_findings() -> None:
    f = _findings(measurements=Measurements(heart_rate_bpm=118.0, rr_cv=0.21, qrs_ms=90.0),
                  statements=(Statement("Atrial fibrillation", 0.95),), episodes=(Episode("AF", 0.0, 10.0),))
    checks = {c.stated: c for c in check_answer("Normal sinus rhythm at 118 bpm.", f)}
    assert not checks["Sinus rhythm"].agrees and checks["118 bpm"].agrees
    assert all(c.agrees for c in check_answer("Atrial fibrillation with rapid ventricular response.", f))
    # a fast rate is no sinus tachycardia in AF (CPSC A0109: AF at 146 bpm answered "Sinus tachycardia" unflagged)
    tachy = check_answer("Sinus tachycardia.", f)[0]
    assert not tachy.agrees and "not sinus rhythm" in tachy.measured and "118 bpm" in tachy.measured


def test_flutter_claims_against_the_flutter_read() -> None:
    m = Measurements(heart_rate_bpm=132.0, rr_cv=0.04, qrs_ms=90.0, flutter_wave_score=0.61, flutter_rate_bpm=288.0)
    f = _findings(measurements=m, statements=(Statement("Atrial flutter", 0.95),))
    checks = {c.stated: c for c in check_answer("Atrial flutter, no atrial fibrillation.", f)}
    assert checks["Atrial flutter"].agrees and "288/min" in checks["Atrial flutter"].measured
    assert not check_answer("Sinus tachycardia.", f)[0].agrees
    sinus = _findings(measurements=replace(m, flutter_wave_score=0.1), statements=(Statement("Sinus rhythm", 0.9),))
    assert not check_answer("Atrial flutter.", sinus)[0].agrees


def test_pvc_claims_against_beat_classes() -> None:
    f = _findings()
    (c,) = check_answer("Frequent PVCs.", f)
    assert not c.agrees and c.measured == f"0 ventricular ectopic of {f.n_beats} beats"


def test_localization_against_findings() -> None:
    times = np.arange(0.5, 10, 1.0)
    classes = tuple("V" if i == 3 else "N" for i in range(len(times)))
    f = _findings(beat_times_s=times, beat_classes=classes)
    assert target_intervals(f, "V") == [(2.5, 4.5)]
    assert localization_check("Duration: 2.5s-4.5s", f, "V", "Premature ventricular contraction").agrees
    wrong = localization_check("No Premature ventricular contraction Found", f, "V", "Premature ventricular contraction")
    assert not wrong.agrees and wrong.measured == "Duration: 2.5s-4.5s"
    assert localization_check("No X Found", f, "A", "X").agrees
    af = _findings(episodes=(Episode("AF", 2.0, 6.0),))
    assert not localization_check("No Atrial fibrillation Found", af, "AF", "Atrial fibrillation").agrees
    unreadable = localization_check("nonsense", f, "V", "x")
    assert not unreadable.agrees and unreadable.stated == "no interval in the answer format"
    # a rhythm target is checked against the episodes of all its kinds (sinus rhythm at any rate)
    sinus = _findings(episodes=(Episode("sinus", 0.0, 3.0), Episode("sinus_tachy", 3.0, 10.0)))
    assert localization_check("Duration: 0.0s-10.0s", sinus, "(N", "Sinus rhythm").agrees
    assert not localization_check("Duration: 0.0s-3.0s", sinus, "(N", "Sinus rhythm").agrees


def test_real_record_read_checks_a_wrong_answer(shared_data: Path) -> None:
    from anyecg.findings.read import read_findings
    from anyecg.io import read_record

    f = read_findings(read_record(shared_data / "mitdb" / "100", end_s=10))  # sinus rhythm about 75 bpm
    assert f.measurements.heart_rate_bpm == pytest.approx(75, abs=8)
    bad = {c.stated: c for c in check_answer("Atrial fibrillation at 150 bpm.", f)}
    assert not bad["150 bpm"].agrees and not bad["Atrial fibrillation"].agrees


def _sinus_then_af() -> list[ECGFindings]:
    """Sinus rhythm at 72 bpm, then atrial fibrillation at 110 bpm."""
    m = Measurements(heart_rate_bpm=110.0, rr_cv=0.3, qrs_ms=92.0, qrs_axis_deg=40.0)
    return [_findings(), _findings(measurements=m, statements=(Statement("Atrial fibrillation", 0.95),),
                                   episodes=(Episode("AF", 0.0, 10.0),))]


@pytest.mark.parametrize(("answer", "verdicts"), [
    ("Yes: sinus rhythm in the first ECG, atrial fibrillation in the second.", [True, True]),
    ("Yes: atrial fibrillation in the first ECG, sinus rhythm in the second.", [False, False]),
    ("No, both ECGs show sinus rhythm.", [True, False]),
    ("Faster: 72 bpm in the first ECG, 110 bpm in the second.", [True, True, True]),
    ("About the same: 72 bpm in the first ECG, 74 bpm in the second.", [False, True, False]),
    ("Atrial fibrillation is new in the second ECG.", [True]),
    ("Atrial fibrillation is no longer present in the second ECG.", [False]),
    ("Heart rate rose from 72 to 110 bpm.", [True, True, True]),
    ("ECG 1: Sinus rhythm. ECG 2: Atrial fibrillation; Premature ventricular contraction. "
     "New in the last ECG: Atrial fibrillation.", [True, False, True, True]),
    ("The two ECGs look alike.", []),
    ("No new finding in the second ECG.", [False]),
    ("Sinus rhythm is unchanged.", [False]),
    ("No, the heart rate is slower in the second ECG.", [False]),
    ("Heart rate unchanged at 72 bpm.", [False, True]),  # about the rate, not the findings
])
def test_comparison_claims_against_each_ecgs_read(answer: str, verdicts: list[bool]) -> None:
    checks = check_comparison(answer, _sinus_then_af())
    assert sorted(c.agrees for c in checks) == sorted(verdicts), [(c.stated, c.measured) for c in checks]


def test_comparison_checks_name_the_ecg() -> None:
    (check,) = check_comparison("Atrial fibrillation in the first ECG.", _sinus_then_af())
    assert (check.stated, check.agrees) == ("ECG 1: Atrial fibrillation", False)
    assert check.measured.startswith("ECG 1: no atrial fibrillation")


@pytest.mark.parametrize(("answer", "stated", "agrees"), [
    ("The rhythm is regular.", "regular rhythm", True), ("No, the rhythm is irregular.", "irregular rhythm", False),
    ("The rhythm is not regular.", "not regular rhythm", False), ("Normal axis.", "normal axis", True)])
def test_regularity_and_axis_words_against_the_read(answer: str, stated: str, agrees: bool) -> None:
    (check,) = check_answer(answer, _findings())  # regular sinus rhythm, QRS axis 40°
    assert (check.stated, check.agrees) == (stated, agrees)
    irregular = _findings(measurements=Measurements(heart_rate_bpm=90.0, rr_cv=0.25, qrs_axis_deg=-60.0))
    assert check_answer(answer, irregular)[0].agrees is not agrees


def test_ectopic_counts_against_the_reads_beats() -> None:
    f = _findings(beat_classes=("N", "V", "N", "N", "V") + ("N",) * 7)
    counts = {a: next(c for c in check_answer(a, f) if c.kind == "count") for a in
              ("2 premature ventricular contractions.", "One PVC.", "No PACs.")}
    assert [c.agrees for c in counts.values()] == [True, False, True]
    assert counts["One PVC."].measured == "2 premature ventricular contractions"


def test_no_change_agrees_when_both_reads_agree() -> None:
    (check,) = check_comparison("No finding changed.", [_findings(), _findings()])
    assert check.agrees and check.measured == "no change"


def test_no_new_and_nothing_resolved_look_one_way() -> None:
    af_then_sinus = _sinus_then_af()[::-1]
    verdicts = {a: [c.agrees for c in check_comparison(a, af_then_sinus)] for a in
                ("No new finding in the second ECG.", "No finding resolved in the second ECG.", "No finding changed.")}
    assert verdicts == {"No new finding in the second ECG.": [True], "No finding resolved in the second ECG.": [False],
                        "No finding changed.": [False]}


@pytest.mark.parametrize(("answer", "several", "beginning"), [
    ("The heart rate is 150 bpm.", False, "The heart rate is 72 bpm."),
    ("The QRS duration is 140 ms.", False, "The QRS duration is 92 ms."),
    ("Left axis deviation, QRS axis -60°.", False, "Normal axis (QRS axis 40°)."),
    ("The rhythm is irregular.", False, "The rhythm is regular."),
    ("3 premature ventricular contractions.", False, "No premature ventricular contractions."),
    ("Atrial fibrillation.", False, "Sinus rhythm."),
    ("No, both ECGs show sinus rhythm.", True, "Yes: sinus rhythm in the first ECG, atrial fibrillation in the second."),
    ("Slower: 110 bpm in the first ECG, 72 bpm in the second.", True,
     "Faster: 72 bpm in the first ECG, 110 bpm in the second."),
    ("No new finding in the second ECG.", True, "Atrial fibrillation is new in the second ECG."),
    ("Atrial fibrillation is no longer present in the second ECG.", True, "No finding resolved in the second ECG."),
])
def test_the_read_begins_an_answer_it_contradicts_with_a_sentence_it_agrees_with(answer: str, several: bool,
                                                                                 beginning: str) -> None:
    reads = _sinus_then_af() if several else [_findings()]
    check = (lambda text: check_comparison(text, reads)) if several else (lambda text: check_answer(text, reads[0]))
    wrong = disagreements(check(answer))
    assert wrong, answer
    assert read_beginning(wrong, reads) == beginning
    again = check(beginning)
    assert {c.kind for c in wrong} & {c.kind for c in again} and not disagreements(again), again


def test_the_read_words_no_beginning_for_a_claim_it_cannot_word() -> None:
    wrong = disagreements(check_answer("Left bundle branch block.", _findings()))
    assert wrong and read_beginning(wrong, [_findings()]) is None


def test_an_answer_that_lists_its_ecgs_is_begun_with_the_reads_listing() -> None:
    reads = _sinus_then_af()
    answer = "ECG 1: Atrial fibrillation. ECG 2: Sinus rhythm."
    wrong = disagreements(check_comparison(answer, reads))
    beginning = read_beginning(wrong, reads, answer)
    assert beginning == "ECG 1: Sinus rhythm. ECG 2: Atrial fibrillation."
    again = check_comparison(beginning, reads)
    assert len(again) == 2 and not disagreements(again)


def test_a_report_that_leaves_out_what_the_read_finds_is_flagged_and_begun_with_the_reads_report() -> None:
    f = _findings(statements=(Statement("Sinus rhythm", 0.9), Statement("Right bundle branch block", 0.8)))
    assert [c.agrees for c in omission_checks("Report: Sinus rhythm, Right bundle branch block", f)] == [True, True]
    checks = omission_checks("Report: Normal sinus rhythm.", f)
    assert [(c.claim, c.agrees) for c in checks] == [("sinus rhythm", True), ("right bundle branch block", False)]
    beginning = read_beginning(disagreements(checks), [f])
    assert beginning == "Report: Sinus rhythm, Right bundle branch block"
    assert not disagreements(omission_checks(beginning, f))


@pytest.mark.parametrize(("question", "is_report"), [
    ("Please provide the report for the following ECG.", True), ("<ecg>Interpret this ECG.", True),
    ("What does this ECG show?", True), ("What is the heart rate?", False), ("Is there atrial fibrillation?", False)])
def test_report_questions_are_told_apart(question: str, is_report: bool) -> None:
    assert is_report_question(question) is is_report


@pytest.mark.parametrize(("question", "answer", "several", "read_says"), [
    ("How many premature ventricular contractions are there?", "Yes, premature ventricular contraction.", False,
     "No premature ventricular contractions."),
    ("How many PVCs?", "2 premature ventricular contractions.", False, None),
    ("What is the QRS duration?", "The heart rate is 72 bpm.", False, "The QRS duration is 92 ms."),
    ("What is the electrical axis?", "Normal axis.", False, None),
    ("Is the rhythm regular?", "Sinus rhythm.", False, "The rhythm is regular."),
    ("Is there atrial fibrillation?", "Sinus rhythm.", False, None),
    ("Which finding resolved in the second ECG?", "Sinus rhythm is unchanged.", True,
     "Atrial fibrillation is no longer present in the second ECG."),
    ("Which finding resolved in the second ECG?", "No finding changed.", True, None),
    ("Did the rhythm change?", "Faster: 72 bpm in the first ECG, 110 bpm in the second.", True,
     "Yes: atrial fibrillation in the first ECG, sinus rhythm in the second."),
    ("How has the heart rate changed?", "Slower: 110 bpm in the first ECG, 72 bpm in the second.", True, None),
    ("Has the rate gone up, down or stayed the same?", "Atrial fibrillation is no longer present in the second ECG.",
     True, "Slower: 110 bpm in the first ECG, 72 bpm in the second."),
    ("Did the rhythm change from the first ECG to the second?", "First degree AV block is new in the second ECG.", True,
     "Yes: atrial fibrillation in the first ECG, sinus rhythm in the second."),
    ("Did the rhythm change from the first ECG to the second?", "No, the rhythm is unchanged.", True,
     "Yes: atrial fibrillation in the first ECG, sinus rhythm in the second."),
    ("Did the rhythm change from the first ECG to the second?", "Yes, sinus rhythm in the second ECG.", True, None),
    ("What is the heart rate and the rhythm?", "The heart rate is 72 bpm.", False,
     "The heart rate is 72 bpm. Sinus rhythm."),
    ("What is the heart rate and the rhythm?", "Sinus rhythm at 72 bpm.", False, None),
    ("Is the QRS axis normal, deviated left or deviated right?", "The QRS duration is 92 ms.", False,
     "Normal axis (QRS axis 40°)."),
    ("Is the rhythm regular or irregular?", "The rhythm is regular.", False, None),
])
def test_an_answer_that_does_not_answer_its_question_is_flagged_with_the_reads_answer(
        question: str, answer: str, several: bool, read_says: str | None) -> None:
    reads = _sinus_then_af()[::-1] if several else [_findings()]
    checks = check_comparison(answer, reads) if several else check_answer(answer, reads[0])
    check = unanswered_check(answer, checks, question, reads)
    assert (check.measured if check else None) == read_says
    if check is not None:
        assert read_beginning([check], reads) == read_says
        again = check_comparison(read_says, reads) if several else check_answer(read_says, reads[0])
        assert unanswered_check(read_says, again, question, reads) is None and not disagreements(again)


def test_the_reads_own_change_sentence_passes_its_checks() -> None:
    """A QRS of 112 ms allows a bundle branch block but is none: the read says "No finding resolved" and its check
    of that sentence agrees (it once measured the block 'gone' by the QRS alone, so the read's own words failed)."""
    wide = replace(_findings().measurements, qrs_ms=112.0)
    reads = [_findings(measurements=wide), _findings()]
    for new in (True, False):
        sentence = change_sentence(reads, new)
        assert sentence.startswith("No ") and not disagreements(check_comparison(sentence, reads))
    with_pvc = _findings(beat_classes=("N", "V") + ("N",) * (len(_findings().beat_times_s) - 2))
    assert not disagreements(check_comparison(change_sentence([_findings(), with_pvc], True), [_findings(), with_pvc]))
    assert disagreements(check_comparison("No new finding in the second ECG.", [_findings(), with_pvc]))


@pytest.mark.parametrize(("question", "general"), [
    ("What does QTc mean?", True), ("What is a normal PR interval?", True), ("Why is the QT interval important?", True),
    ("What is atrial flutter?", True), ("What is the heart rate?", False), ("Is the axis normal?", False),
    ("What does this ECG show?", False), ("What is a normal finding on this ECG?", False)])
def test_general_knowledge_questions_are_told_from_questions_about_the_ecg(question: str, general: bool) -> None:
    assert is_general_question(question) is general


def test_a_listing_of_ecgs_is_held_to_each_ecgs_read() -> None:
    reads = _sinus_then_af()
    full = listing_sentence(reads, 2)
    assert listing_omission_checks(full, reads) and not disagreements(listing_omission_checks(full, reads))
    partial = "ECG 1: " + full.split("ECG 1: ")[1].split(" ECG 2:")[0]  # ECG 2 left out
    wrong = disagreements(listing_omission_checks(partial, reads))
    assert wrong and {checked_ecg(c) for c in wrong} == {2}
    assert read_beginning(wrong, reads, partial) == full
    assert listing_omission_checks("Atrial fibrillation is new in the second ECG.", reads) == []


@pytest.mark.parametrize("question", ["Summarize each ECG and what changed.", "What are the key findings of each ECG?",
                                      "How has this patient's ECG changed over time?"])
def test_a_question_about_each_ecg_asks_for_a_listing(question: str) -> None:
    reads = _sinus_then_af()
    full = listing_sentence(reads, 2)
    check = unanswered_check("Atrial fibrillation is new in the second ECG.", [], question, reads)
    assert check is not None and check.measured == full
    assert unanswered_check(full, check_comparison(full, reads), question, reads) is None
