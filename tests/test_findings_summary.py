"""The machine read's text block: what the model reads beside each ECG."""

from __future__ import annotations

import pytest

from anyecg.findings.locate import target_intervals
from anyecg.findings.read import read_findings
from anyecg.findings.summary import findings_text
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
