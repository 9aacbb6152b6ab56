"""Release-3 training data: the ECG-free turns (`anyecg.data.tasks.general`) and the assembly's held-out guard and
report names (`anyecg.data.release3`)."""

from __future__ import annotations

from anyecg.data.release3 import heldout_refs, leaks, report_names
from anyecg.data.schema import Sample
from anyecg.data.tasks.general import CHECK_QUESTION, QUESTIONS, general_samples, trim_to_sentence


def test_general_questions_leave_out_the_check():
    assert len(QUESTIONS) >= 150 and len(set(QUESTIONS)) == len(QUESTIONS)
    assert CHECK_QUESTION not in QUESTIONS and not any("qtc" in q.lower() for q in QUESTIONS)


def test_an_answer_cut_mid_sentence_ends_at_its_last_full_sentence():
    assert trim_to_sentence("It is 60-100 bpm. It varies with age and") == "It is 60-100 bpm."
    assert trim_to_sentence("Normal is 36.8 °C.") == "Normal is 36.8 °C."
    assert trim_to_sentence("Causes include:\n\n1. Age\n2.") == ""  # a list number is no sentence end
    assert trim_to_sentence("Causes include heart disease.\n\n1. Age\n2. High") == "Causes include heart disease."
    assert trim_to_sentence('He said "stop." Then') == 'He said "stop."'
    assert trim_to_sentence("no sentence here") == ""


def test_general_samples_have_no_ecg():
    samples = general_samples(["What is a stent?", "Why?"], ["A small tube. It keeps", "no end"])
    assert len(samples) == 1  # an answer without a full sentence is left out
    s = Sample.from_dict(samples[0].to_dict())
    assert s.task == "general" and s.ecgs == () and s.answer == "A small tube."


def test_report_names_follow_the_vocabulary_and_drop_implied_parents():
    assert report_names({"Myocardial infarction", "Anterior myocardial infarction", "Sinus rhythm", "Normal ECG"}) \
        == ["Normal ECG", "Sinus rhythm", "Anterior myocardial infarction"]


def test_heldout_records_are_refused(shared_data):
    held = heldout_refs(shared_data)
    assert {"cpsc2018:A0101", "cpsc2018:A0150", "ludb:data/121", "ludb:data/160", "mitdb:100"} <= held
    assert not {"cpsc2018:A0100", "ludb:data/120", "mitdb:101"} & held
    assert any(r.startswith("ptbxl:records500/") for r in held)
    sample = {"ecgs": [{"path": "mitdb:101"}, {"path": "cpsc2018:A0120"}]}
    assert leaks(sample, held) == ["cpsc2018:A0120"]


def test_read_targets_name_what_the_read_holds(shared_data):
    from anyecg.data.tasks.read_targets import read_targets
    from anyecg.findings.read import read_file_findings
    from anyecg.findings.summary import named_statements

    roots = {"cpsc2018": str(shared_data / "cpsc2018-a0001-a0150")}
    ecg = {"path": "cpsc2018:A0001", "start_s": None, "end_s": None, "leads": None}
    other = {**ecg, "path": "cpsc2018:A0002"}

    def row(task: str, ecgs: list[dict], meta: dict) -> dict:
        conv = [{"role": "user", "content": "<ecg>\n" * len(ecgs) + "Q?"}, {"role": "assistant", "content": "label"}]
        return {"id": task, "task": task, "dataset": "cpsc2018", "split": "train", "ecgs": ecgs,
                "conversation": conv, "meta": meta}

    rows = [row("report", [ecg], {"labels": ["Normal ECG"]}),
            row("report", [ecg], {"report_source": "database text"}),
            row("multiecg", [ecg, other], {"aspect": "rhythm", "labels": [["Normal ECG"], ["x"]]})]
    report, text, comparison = read_targets(rows, roots)
    read = [named_statements(read_file_findings(shared_data / "cpsc2018-a0001-a0150" / n)) for n in ("A0001", "A0002")]
    assert report["meta"]["target"] == "read" and report["meta"]["labels"] == ["Normal ECG"]
    names = report["conversation"][-1]["content"].removeprefix("Report: ").split(", ")
    assert set(names) == set(read[0])
    assert text is rows[1]  # an original report text stays
    first = comparison["conversation"][-1]["content"].split(" ECG 2:")[0]
    assert first.startswith("ECG 1: ") and read[0][0] in first  # the rhythm aspect names the read's rhythm
