"""U-Net baseline: shapes, decoding, safetensors round trip, predictions in the answer format; DS2 windows."""

from pathlib import Path

import numpy as np
import pytest
import torch

from anyecg.errors import ConfigError
from anyecg.eval.samples import EvalRef, EvalSample
from anyecg.eval.unet import UNet1D, UNetConfig, UNetPredictor, decode, load_unet, save_unet
from anyecg.signal.intervals import parse_answer

MITDB = Path(__file__).resolve().parents[2] / "shared/data/mitdb"


@pytest.mark.parametrize("length", [1000, 1234, 37])
def test_any_length(length):
    model = UNet1D(UNetConfig(width=4)).eval()
    with torch.inference_mode():
        assert model(torch.zeros(2, 12, length)).shape == (2, 4, length)


def test_decode_runs():
    prob = np.zeros(1000)
    prob[100:250] = 0.9  # 1.0 s - 2.5 s
    prob[400:420] = 0.9  # 0.2 s: shorter than MIN_RUN_S, dropped
    prob[900:] = 0.8  # runs to the end
    assert decode(prob) == [(1.0, 2.5), (9.0, 10.0)]
    assert decode(np.zeros(1000)) == []


def test_round_trip_and_predictor(tmp_path):
    wfdb = pytest.importorskip("wfdb")
    model = UNet1D(UNetConfig(width=4)).eval()
    path = tmp_path / "w.safetensors"
    save_unet(model, path, {"command": "test"})
    loaded, meta = load_unet(path)
    assert meta["command"] == "test" and loaded.cfg == model.cfg
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    sig = np.random.default_rng(0).normal(size=(7200, 2))
    wfdb.wrsamp("r", fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=sig, fmt=["16", "16"],
                write_dir=str(tmp_path))
    samples = [EvalSample(f"s{i}", "localization", "t", (EvalRef(tmp_path / "r", 0.0, end),),
                          ({"role": "user", "content": "<ecg>\nq"},), "No X Found", {"abnormal_type": typ})
               for i, (end, typ) in enumerate([(10.0, "V"), (20.0, "A"), (10.0, "F")])]
    answers = UNetPredictor(path).predict(samples, [(), ("V1",), ()])
    for answer in answers:
        parse_answer(answer)  # valid format
    assert answers[2] == "No Fusion of ventricular and normal beat Found"  # a class the U-Net lacks


@pytest.mark.skipif(not (MITDB / "100.hea").is_file(), reason="../shared/data/mitdb absent")
def test_ds2_windows_follow_the_rule():
    from anyecg.eval.windows import record_windows

    short = record_windows(MITDB / "100", n_pos=3, n_neg=2)
    long = record_windows(MITDB / "100", long=True, n_pos=3, n_neg=2)
    assert short == record_windows(MITDB / "100", n_pos=3, n_neg=2)  # deterministic
    for s in short + long:
        ref = s.ecgs[0]
        answer = s.conversation[-1].content
        assert ("-neg-" in s.id) == answer.startswith("No ")
        assert 10.0 - 1e-6 <= ref.end_s - ref.start_s <= 60.0 + 1e-6
    assert all(s.ecgs[0].end_s - s.ecgs[0].start_s == pytest.approx(10.0) for s in short)


@pytest.mark.skipif(not (MITDB / "208.hea").is_file(), reason="../shared/data/mitdb absent")
def test_natural_windows_ask_every_type_of_the_same_window():
    from anyecg.eval.windows import record_windows

    nat = record_windows(MITDB / "208", n_pos=0, n_neg=0, n_nat=3)
    assert len(nat) == 3 * 4 and [s.meta["abnormal_type"] for s in nat[:4]] == ["A", "V", "L", "R"]
    assert len({(s.ecgs[0].start_s, s.ecgs[0].end_s) for s in nat}) == 3  # one window, four questions
    assert any(not s.conversation[-1].content.startswith("No ") for s in nat if s.meta["abnormal_type"] == "V")
    assert all(s.conversation[-1].content.startswith("No ") for s in nat if s.meta["abnormal_type"] == "L")


@pytest.mark.skipif(not (MITDB / "233.hea").is_file(), reason="../shared/data/mitdb absent")
def test_beat_classifier_baseline_localizes_held_out_pvcs():
    from anyecg.eval.predictors import BeatClassifierPredictor
    from anyecg.eval.samples import from_sample
    from anyecg.eval.windows import record_windows
    from anyecg.signal.intervals import answer_iou

    samples = [from_sample(s, {}) for s in record_windows(MITDB / "233", types=("V", "L"), n_pos=3, n_neg=0)]
    answers = BeatClassifierPredictor().predict(samples)
    scores = {s.abnormal_type: [] for s in samples}
    for s, a in zip(samples, answers, strict=True):
        scores[s.abnormal_type].append(answer_iou(s.truth, a))
    assert np.mean(scores["V"]) > 0.6  # DS2 patient, never trained on
    assert all(a.startswith("No ") for s, a in zip(samples, answers, strict=True) if s.abnormal_type == "L")


@pytest.mark.skipif(not (MITDB / "233.hea").is_file(), reason="../shared/data/mitdb absent")
def test_findings_baseline_localizes_held_out_pvcs_from_the_machine_read():
    from anyecg.eval.predictors import FindingsPredictor
    from anyecg.eval.samples import from_sample
    from anyecg.eval.windows import record_windows
    from anyecg.signal.intervals import answer_iou

    samples = [from_sample(s, {}) for s in record_windows(MITDB / "233", types=("V", "L"), n_pos=3, n_neg=0)]
    answers = FindingsPredictor().predict(samples)
    scores = [answer_iou(s.truth, a) for s, a in zip(samples, answers, strict=True) if s.abnormal_type == "V"]
    assert np.mean(scores) > 0.6  # DS2 patient, never trained on
    assert all(a.startswith("No ") for s, a in zip(samples, answers, strict=True) if s.abnormal_type == "L")
    with pytest.raises(ConfigError):
        FindingsPredictor().predict(samples[:1], mask_leads=[("II",)])


def test_findings_baseline_writes_reports_and_comparisons_from_the_read(shared_data):
    from anyecg.eval.findings import findings_scores
    from anyecg.eval.predictors import FindingsPredictor

    cpsc = shared_data / "cpsc2018-a0001-a0150"
    af, rbbb = (EvalRef(str(cpsc / name)) for name in ("A0101", "A0134"))  # held out: AF; RBBB
    report = EvalSample("r", "report", "cpsc2018", (af,), (), "Report: Atrial fibrillation")
    pair = EvalSample("m", "multiecg", "cpsc2018", (af, rbbb), (), "",
                      {"labels": [["Atrial fibrillation"], ["Right bundle branch block"]]})
    text, comparison = FindingsPredictor().predict([report, pair])
    assert text.startswith("Report: Atrial fibrillation")
    assert comparison.startswith("ECG 1: Atrial fibrillation") and "ECG 2: Sinus rhythm" in comparison
    assert "No longer present: Atrial fibrillation" in comparison
    # the read misses A0134's RBBB (its QRS measures 96 ms): half the labelled findings named
    assert findings_scores([pair], {"m": comparison})["all"]["recall_in_vocabulary"] == 0.5
    with pytest.raises(ConfigError, match="not ecgqa"):
        FindingsPredictor().predict([EvalSample("q", "ecgqa", "ptbxl", (af,), (), "yes")])
