"""The question set: the committed file, its builder, the grader and the findings-only answerer."""

from __future__ import annotations

import csv
import re

import pytest

from anyecg.data.question_truth import mitdb_window_truth, ptbxl_axis
from anyecg.data.questions import QTYPES, RecordTruth, pair_questions, single_questions
from anyecg.data.schema import ECGRef, read_jsonl
from anyecg.data.sources.mitdb import DS2
from anyecg.data.templates import QUESTIONS
from anyecg.eval.questions.build import QUESTIONS_FILE
from anyecg.eval.questions.grade import accuracy_table, grade
from anyecg.io import read_record


@pytest.fixture(scope="module")
def questions():
    return list(read_jsonl(QUESTIONS_FILE))


def test_committed_set_loads_with_every_type(questions):
    assert len(questions) >= 300
    assert len({s.id for s in questions}) == len(questions)
    assert {s.meta["qtype"] for s in questions} == set(QTYPES)
    assert {s.dataset for s in questions} == {"cpsc2018", "ptbxl", "ludb", "mitdb"}


def _held_out(path: str, ptbxl_fold9: set[str] | None) -> bool:
    source, rel = path.split(":", 1)
    if source == "cpsc2018":
        return 101 <= int(rel[1:]) <= 150
    if source == "ludb":
        return 121 <= int(rel.split("/")[-1]) <= 160
    if source == "mitdb":
        return rel in DS2
    if source == "ptbxl":
        return ptbxl_fold9 is None or rel in ptbxl_fold9
    return False


def test_only_held_out_records(questions):
    assert all(_held_out(e.path, None) for s in questions for e in s.ecgs)
    assert all(e.end_s - e.start_s == pytest.approx(10.0) for s in questions for e in s.ecgs
               if e.path.startswith("mitdb:"))


def test_ptbxl_questions_are_fold_9(questions, shared_data):
    with open(shared_data / "ptbxl-500" / "ptbxl_database.csv", newline="") as f:
        fold9 = {r["filename_hr"] for r in csv.DictReader(f) if int(float(r["strat_fold"])) == 9}
    assert all(_held_out(e.path, fold9) for s in questions for e in s.ecgs)


def test_every_reference_answer_grades_right(questions):
    verdicts = [grade(s.meta, s.answer) for s in questions]
    table = accuracy_table([s.meta for s in questions], verdicts)
    assert table["overall"]["accuracy"] == 1.0


def test_several_phrasings_per_type(questions):
    for qtype in QTYPES:
        texts = {s.question for s in questions if s.meta["qtype"] == qtype}
        assert len(texts) >= 2, qtype


@pytest.mark.parametrize("qtype,truth,answer,right", [
    ("heart_rate", {"bpm": 75.0}, "The heart rate is 80 bpm.", True),
    ("heart_rate", {"bpm": 75.0}, "Heart rate: 84", False),
    ("heart_rate", {"bpm": 75.0}, "No Ever Ever Found", False),
    ("qrs", {"ms": 100.0}, "QRS duration 118 ms", True),
    ("qrs", {"ms": 100.0}, "The QRS is 0.13 s wide.", False),
    ("pr", {"ms": 160.0}, "PR interval is about 0.17 s.", True),
    ("rhythm", {"rhythm": "af"}, "Atrial fibrillation with a rapid ventricular response.", True),
    ("rhythm", {"rhythm": "af"}, "AFib.", True),
    ("rhythm", {"rhythm": "sinus"}, "Sinus bradycardia.", True),
    ("rhythm", {"rhythm": "sinus"}, "Normal sinus rhythm", True),
    ("rhythm", {"rhythm": "sinus"}, "Sinus rhythm or atrial fibrillation", False),
    ("rhythm", {"rhythm": "sinus"}, "Reprodence", False),
    ("af", {"present": True, "statement": "Atrial fibrillation"}, "Yes.", True),
    ("af", {"present": True, "statement": "Atrial fibrillation"}, "There is no atrial fibrillation.", False),
    ("af", {"present": False, "statement": "Atrial fibrillation"}, "No AF is seen.", True),
    ("conduction", {"present": True, "statement": "Right bundle branch block"}, "RBBB is present.", True),
    ("conduction", {"present": True, "statement": "Right bundle branch block"}, "Left bundle branch block.", False),
    ("regularity", {"regular": False, "polarity": "regular"}, "No.", True),
    ("regularity", {"regular": False, "polarity": "irregular"}, "No, it is regular.", False),
    ("regularity", {"regular": True, "polarity": "either"}, "Regular rhythm.", True),
    ("axis", {"axis": "left"}, "QRS axis -45°", True),
    ("axis", {"axis": "left"}, "Normal axis.", False),
    ("ectopy_count", {"count": 2, "statement": "Premature ventricular contraction"}, "Two PVCs.", True),
    ("ectopy_count", {"count": 2, "statement": "Premature ventricular contraction"}, "3", False),
    ("ectopy_count", {"count": 0, "statement": "Premature ventricular contraction"}, "None.", True),
    ("localization", {"abnormal_type": "V", "intervals": [[2.0, 3.0]]}, "Duration: 2.1s-3.0s", True),
    ("localization", {"abnormal_type": "V", "intervals": [[2.0, 3.0]]}, "Duration: 6.0s-7.0s", False),
    ("localization", {"abnormal_type": "V", "intervals": []},
     "No Premature ventricular contraction Found", True),
    ("compare_rhythm", {"changed": True, "first": "sinus", "second": "af"}, "No Changes Found", False),
    ("compare_rate", {"change": "faster"}, "The rate increased from 90 to 118 bpm.", True),
    ("compare_rate", {"change": "faster"}, "Rate 90 bpm then 118 bpm", True),
    ("compare_new", {"names": ["Atrial fibrillation"]}, "New atrial fibrillation.", True),
    ("compare_new", {"names": ["Atrial fibrillation"]}, "New AF and a new RBBB.", False),
    # a claim about a finding the labels of one ECG do not decide (RBBB in a MIT-BIH window) is not graded
    ("compare_new", {"names": ["Atrial fibrillation"], "decidable": ["Atrial fibrillation"]},
     "New AF and a new first degree AV block.", True),
    ("compare_new", {"names": ["Atrial fibrillation"], "decidable": ["Atrial fibrillation", "Right bundle branch block"]},
     "New AF and a new RBBB.", False),
    ("compare_resolved", {"names": ["Premature ventricular contraction"]},
     "No longer present: Premature ventricular contraction.", True),
    ("compare_resolved", {"names": ["Premature ventricular contraction"]},
     "Premature ventricular contraction is no longer present in the second ECG.", True),
    ("compare_resolved", {"names": ["Premature ventricular contraction"]}, "No finding resolved.", False),
])
def test_grader_on_hand_written_answers(qtype, truth, answer, right):
    assert grade({"qtype": qtype, "truth": truth}, answer).correct is right


def _fixture_truth(key: str, names: set[str], rate: float) -> RecordTruth:
    return RecordTruth(f"test:{key}", "test", ECGRef(f"test:{key}"), frozenset(names), None, heart_rate_bpm=rate,
                       intervals_ms={"qrs": 130.0}, axis="left")


def test_questions_from_a_generated_truth():
    a = _fixture_truth("a", {"Sinus rhythm"}, 70.0)
    b = _fixture_truth("b", {"Atrial fibrillation", "Right bundle branch block"}, 110.0)
    qs = single_questions(b, "test")
    types = {s.meta["qtype"] for s in qs}
    assert {"heart_rate", "rhythm", "regularity", "af", "qrs", "axis", "conduction", "ectopy"} <= types
    assert "pr" not in types and "ectopy_count" not in types  # no truth, no question
    assert next(s for s in qs if s.meta["qtype"] == "conduction").meta["truth"]["present"] is True
    pairs = {s.meta["qtype"]: s for s in pair_questions(a, b, "test")}
    assert pairs["compare_rhythm"].meta["truth"]["changed"] is True
    assert pairs["compare_rate"].meta["truth"]["change"] == "faster"
    assert "compare_new" not in pairs  # AF and RBBB both appeared: not one new finding
    assert single_questions(b, "test") == qs  # deterministic
    assert all(re.search(r"<ecg>\n<ecg>\n", s.question) for s in pairs.values())


def test_positive_yes_no_questions_in_every_phrasing():
    from anyecg.data.tasks.questions import YES_NO, positive_phrasings

    qs = single_questions(_fixture_truth("b", {"Atrial fibrillation", "Right bundle branch block"}, 110.0), "test")
    qs += single_questions(_fixture_truth("a", {"Sinus rhythm"}, 70.0), "test")
    more = positive_phrasings(qs)
    extra = more[len(qs):]
    assert more[:len(qs)] == qs and extra and len({s.id for s in more}) == len(more)
    assert all(s.meta["qtype"] in YES_NO and s.meta["truth"]["present"] and s.answer.startswith("Yes") for s in extra)
    af = [s for s in more if s.meta["qtype"] == "af" and s.meta["records"] == ["test:b"]]
    assert len(af) == len(QUESTIONS["af"]) and len({s.question for s in af}) == len(af)


def test_mitdb_window_truth_from_annotations(shared_data):
    rec = read_record(shared_data / "mitdb" / "208")  # a DS1 record, used here only for its many PVCs
    t = mitdb_window_truth(rec, "208", 0.0)
    n_v = sum(1 for s, sym in zip(rec.beats.sample, rec.beats.symbol, strict=True)
              if sym in ("V", "E") and 0.25 * rec.fs <= s < 9.75 * rec.fs)
    assert t.beat_counts.get("Premature ventricular contraction", n_v) == n_v > 0
    assert t.heart_rate_bpm is not None and 40 < t.heart_rate_bpm < 150
    assert t.localization["V"]
    # no L or R beat in the window: no bundle branch block, which the labels decide; first degree AV block they do not
    assert {"Left bundle branch block", "Right bundle branch block"} <= t.known
    assert "First degree AV block" not in t.known and not t.names & {"Left bundle branch block",
                                                                      "Right bundle branch block"}
    r = mitdb_window_truth(read_record(shared_data / "mitdb" / "118"), "118", 0.0)  # DS1: RBBB beats throughout
    assert "Right bundle branch block" in r.names


@pytest.mark.parametrize(("heart_axis", "names", "axis"), [
    ("MID", set(), "normal"), ("ALAD", set(), "left"), ("ARAD", set(), "right"),
    ("LAD", set(), None),  # PTB-XL's LAD is a leftward axis, often within the normal range
    ("LAD", {"Left axis deviation"}, "left"), ("", {"Right axis deviation"}, "right"),
    ("MID", {"Left axis deviation"}, None),  # the column and the statement disagree
])
def test_ptbxl_axis_in_the_aha_sense(heart_axis, names, axis):
    assert ptbxl_axis(heart_axis, names) == axis


def test_findings_answerer_on_real_records(shared_data):
    from anyecg.eval.questions.answerers import FindingsAnswerer
    from anyecg.eval.questions.report import load_questions
    from anyecg.findings.answers import FindingsCache

    wanted = {"q-ludb-121-heart_rate", "q-ludb-122-qrs", "q-cpsc2018-A0101-af"}
    samples = [s for s in load_questions(None, shared_data) if s.id in wanted]
    assert len(samples) == len(wanted)
    answers = FindingsAnswerer(FindingsCache()).predict(samples)
    verdicts = {s.id: grade(s.meta, a) for s, a in zip(samples, answers, strict=True)}
    assert all(v.read is not None for v in verdicts.values())
    assert verdicts["q-ludb-121-heart_rate"].correct
    assert verdicts["q-ludb-122-qrs"].correct


def test_training_questions_use_training_records_only(shared_data):
    from anyecg.data.tasks.questions import training_questions

    samples = training_questions(shared_data, measure=False)
    assert len(samples) > 1000 and {s.split for s in samples} == {"train"}
    refs = {e.path for s in samples for e in s.ecgs}
    assert not any(_held_out(p, None) for p in refs if not p.startswith("ptbxl:"))
    with open(shared_data / "ptbxl-500" / "ptbxl_database.csv", newline="") as f:
        fold9 = {r["filename_hr"] for r in csv.DictReader(f) if int(float(r["strat_fold"])) >= 9}
    assert not any(p.split(":", 1)[1] in fold9 for p in refs if p.startswith("ptbxl:"))
    assert {"cinc2021", "chapman", "mitdb", "ludb", "cpsc2018", "ptbxl"} <= {s.dataset for s in samples}
    assert all(grade(s.meta, s.answer).correct for s in samples)


def test_training_truth_measured_where_labels_lack(shared_data):
    from anyecg.data.question_truth import cpsc_truths
    from anyecg.data.tasks.questions import with_measurements

    t = cpsc_truths(shared_data, range(1, 2))[0]
    assert t.heart_rate_bpm is None and not t.intervals_ms
    m = with_measurements(t, shared_data)
    assert 30 < m.heart_rate_bpm < 200 and 60 < m.intervals_ms["qrs"] < 200
    assert {s.meta["qtype"] for s in single_questions(m, "train")} >= {"heart_rate", "qrs", "axis"}


def test_eval_questions_command_writes_the_report_and_resumes(shared_data, tmp_path):
    from anyecg.cli import main
    from anyecg.data.schema import write_jsonl

    wanted = {"q-ludb-121-heart_rate", "q-ludb-122-qrs", "q-cpsc2018-A0101-af"}
    write_jsonl(tmp_path / "q.jsonl", [s for s in read_jsonl(QUESTIONS_FILE) if s.id in wanted])
    args = ["eval", "questions", "--references", "findings", "--questions", str(tmp_path / "q.jsonl"),
            "--shared-data", str(shared_data), "--out", str(tmp_path / "cache"), "--results", str(tmp_path / "q.md")]
    assert main(args) == 0
    md = (tmp_path / "q.md").read_text()
    assert "Made by:" in md and "q.jsonl" in md and "| heart_rate | 1 | 100.0 |" in md and "| qrs | 1 | 100.0 |" in md
    cache = (tmp_path / "cache" / "findings-only.jsonl").read_text()
    assert cache.count("\n") == 3
    assert main(args) == 0 and (tmp_path / "cache" / "findings-only.jsonl").read_text() == cache
