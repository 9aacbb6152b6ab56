"""The machine read's text block: what the model reads beside each ECG."""

from __future__ import annotations

import numpy as np
import pytest

from anyecg.findings.locate import target_intervals
from anyecg.findings.read import read_findings
from anyecg.findings.summary import findings_text, named_statements
from anyecg.findings.types import ECGFindings, Statement
from anyecg.io import read_record
from anyecg.signal.intervals import format_answer


def test_block_gives_the_ectopic_beats_intervals_in_the_answer_format(shared_data):
    """MIT-BIH 208, 10 s with PVCs: the block lists the PVC times and their intervals as `locate` would answer."""
    path = shared_data / "mitdb" / "208"
    if not path.with_suffix(".hea").is_file():
        pytest.skip(f"MIT-BIH record 208 not in {path.parent}")
    f = read_findings(read_record(path, start_s=1234.5, end_s=1244.5))
    text = findings_text(f)
    n_v = f.beat_classes.count("V")
    assert n_v > 0
    answer = format_answer(target_intervals(f, "V"), "Premature ventricular contraction")
    assert answer.startswith("Duration: ")
    assert f"Premature ventricular contractions: {n_v} (" in text and f"); {answer}." in text
    if "S" not in f.beat_classes:
        assert "Premature atrial contractions: 0." in text


def _read(classes: tuple[str, ...], *statements: tuple[str, float]) -> ECGFindings:
    return ECGFindings(source="constructed", fs=500.0, start_s=0.0, duration_s=10.0, leads=("II",),
                       beat_times_s=np.arange(len(classes), dtype=float), beat_classes=classes,
                       statements=tuple(Statement(n, c, "both") for n, c in statements))


def test_named_statements_put_the_rhythm_first():
    read = _read(("N", "N", "S", "N"), ("T wave abnormality", 0.6), ("Sinus tachycardia", 0.9),
                 ("Premature atrial contraction", 0.8), ("Left axis deviation", 0.7), ("Prolonged QT interval", 0.3))
    assert named_statements(read) == ["Sinus tachycardia", "Left axis deviation", "T wave abnormality",
                                      "Premature atrial contraction"]
    assert named_statements(_read(("N",) * 4))[0] == "Sinus rhythm"
