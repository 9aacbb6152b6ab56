"""The one vocabulary: every source's codes map to names in STATEMENTS, and every code in the shared data maps."""

from __future__ import annotations

import ast
import csv

import pytest
import wfdb

from anyecg.data.sources.ptbxl import scp_labels
from anyecg.signal.intervals import RHYTHM_DESCRIPTIONS
from anyecg.vocabulary import (
    CPSC,
    MITBIH_RHYTHMS,
    SCP,
    SNOMED,
    STATEMENTS,
    dx_names,
    ludb_diagnoses,
    ludb_names,
    rhythm_name,
    scp_names,
    superclass_of,
)


def test_every_table_names_known_statements():
    names = {n for n, *_ in SNOMED.values()} | set(MITBIH_RHYTHMS.values())
    names |= {n for ns in (*SCP.values(), *CPSC.values()) for n in ns}
    assert names <= set(STATEMENTS), names - set(STATEMENTS)
    assert {superclass_of(n) for n in STATEMENTS} == {"", "NORM", "MI", "STTC", "CD", "HYP"}


def test_same_finding_same_name_across_sources():
    # the example: MIT-BIH's normal rhythm and CinC's sinus rhythm are one statement
    assert rhythm_name("(N") == dx_names("426783006")[0] == scp_names("SR")[0] == "Sinus rhythm"
    assert RHYTHM_DESCRIPTIONS["(N"] == "Sinus rhythm"
    assert dx_names("AF") == dx_names("164889003") == scp_names("AFIB") == ("Atrial fibrillation",)
    assert rhythm_name("AFIB") == "Atrial fibrillation"
    # CinC 2021 equivalent codes share a name
    for a, b in (("713427006", "59118001"), ("284470004", "63593006"), ("427172004", "17338001"),
                 ("733534002", "164909002")):
        assert dx_names(a) == dx_names(b)
    assert dx_names("PVC") == scp_names("PVC") == dx_names("17338001")
    assert scp_names("CRBBB") == dx_names("RBBB")
    assert ludb_names("Rhythm: Atrial flutter, typical.") == scp_names("AFLT")
    assert ludb_names("STEMI: septal.") == ("ST elevation", "Anterior myocardial infarction")
    assert ludb_names("Electric axis of the heart: normal.") == ()
    assert ludb_names("Something new.") is None and dx_names("999") is None and dx_names("XYZ") is None


def test_ludb_diagnoses_split_lines():
    comments = ["<age>: 51", "<diagnoses>:", "Rhythm: Sinus rhythm.", "Ischemia: apical. #Rhythm: Sinus rhythm."]
    assert ludb_diagnoses(comments) == ["Rhythm: Sinus rhythm.", "Ischemia: apical.", "Rhythm: Sinus rhythm."]
    assert ludb_diagnoses(["no diagnoses"]) == []


def _dx_codes(folder) -> set[str]:
    codes = set()
    for hea in folder.glob("*.hea"):
        for line in hea.read_text().splitlines():
            if line.lstrip("#").strip().startswith("Dx"):
                codes |= {c.strip() for c in line.split(":", 1)[1].split(",") if c.strip()}
    return codes


@pytest.mark.parametrize("folder", ["cinc2021-sample", "chapman-4", "cpsc2018-a0001-a0150"])
def test_every_dx_code_in_shared_data_maps(shared_data, folder):
    codes = _dx_codes(shared_data / folder)
    assert codes, folder
    assert [c for c in codes if dx_names(c) is None] == []


def test_every_scp_code_maps(shared_data):
    with open(shared_data / "ptbxl-meta" / "scp_statements.csv", newline="") as f:
        table = {r[""] for r in csv.DictReader(f)}
    assert table == set(SCP)
    with open(shared_data / "ptbxl-500" / "ptbxl_database.csv", newline="") as f:
        used = {c for r in csv.DictReader(f) for c in ast.literal_eval(r["scp_codes"])}
    assert used and used <= set(SCP)
    assert scp_labels("{'NORM': 100.0, 'SR': 0.0}") == (("Normal ECG", "Sinus rhythm"), [])


def test_every_mitbih_rhythm_note_maps(shared_data):
    notes = set()
    for hea in sorted((shared_data / "mitdb").glob("*.hea")):
        ann = wfdb.rdann(str(hea.with_suffix("")), "atr")
        notes |= {a.strip("\x00").strip() for s, a in zip(ann.symbol, ann.aux_note, strict=True) if s == "+" and a}
    assert len(notes) >= 10
    assert [n for n in notes if rhythm_name(n) is None] == []


def test_every_ludb_diagnosis_maps(shared_data):
    seen = 0
    for hea in sorted((shared_data / "ludb" / "data").glob("*.hea")):
        for line in ludb_diagnoses(wfdb.rdheader(str(hea.with_suffix(""))).comments):
            seen += 1
            assert ludb_names(line) is not None, (hea.name, line)
    assert seen > 600


def test_mitbih_beat_classes_that_are_statements_use_vocabulary_names():
    import numpy as np

    from anyecg.data.tasks.report import findings_parts, window_findings
    from anyecg.io.record import BeatAnnotations, ECGRecord, Event
    from anyecg.vocabulary import MITBIH_BEATS, beat_name

    assert set(MITBIH_BEATS.values()) <= set(STATEMENTS)
    # MIT-BIH's 'A' and CinC's PAC code, 'V' and PVC, 'L' beats and CLBBB: one name each
    assert beat_name("A") == beat_name("a") == dx_names("284470004")[0]
    assert beat_name("V") == dx_names("427172004")[0] and beat_name("L") == dx_names("164909002")[0]
    assert beat_name("F") is None
    fs = 100.0
    samples = np.arange(50, 1000, 80)
    symbols = ("N", "A", "N", "a", "V", "N", "F", "N", "L", "N", "N", "N")
    record = ECGRecord(np.zeros((1, 1000), np.float32), fs, ("II",),
                       beats=BeatAnnotations(samples, symbols, ("",) * len(symbols)),
                       events=(Event(0.0, 10.0, "(N"),))
    found = window_findings(record, 0, 1000)
    assert found["rhythms"] == ["Sinus rhythm"]
    assert found["beats"] == {"Premature atrial contraction": 2, "Premature ventricular contraction": 1,
                              "Fusion of ventricular and normal beat": 1, "Left bundle branch block": 1}
    parts = findings_parts(found, np.random.default_rng(0))
    assert "Left bundle branch block" in parts  # a conduction statement: no beat count
    assert any(p.startswith("Premature atrial contraction") and "2" in p for p in parts)
