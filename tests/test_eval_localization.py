"""Trivial references on the official MIT-BIH lists, lead-masking plans, the resumable prediction cache."""

from pathlib import Path

import pytest

from anyecg.eval import localization as loc
from anyecg.eval.predictors import TrivialPredictor
from anyecg.eval.runner import load_cache, run_predictions
from anyecg.eval.samples import EvalRef, EvalSample, load_samples

OFFICIAL = Path(__file__).resolve().parents[2] / "shared/data/anyecg-chat-format/location_evaluation"
needs_official = pytest.mark.skipif(not OFFICIAL.is_dir(), reason="../shared/data official lists absent")


@needs_official
@pytest.mark.parametrize("name", ["mit_bih_arrhythmia_test", "mit_bih_arrhythmia_long_test"])
def test_always_no_scores_the_negative_share(name):
    samples = load_samples(OFFICIAL / f"{name}.json")
    preds = dict(zip([s.id for s in samples], TrivialPredictor("always_no").predict(samples), strict=True))
    table = loc.group_table(loc.score_all(samples, preds))
    (group,) = table.values()
    micro = group["micro"]
    assert micro["iou"] == pytest.approx(micro["neg_share"])  # localizes nothing, scores the negatives
    assert micro["iou_pos"] == 0.0 and micro["neg_acc"] == 1.0 and micro["pos_acc"] == 0.0
    assert 0.1 < micro["neg_share"] < 0.35
    assert group["macro"]["iou"] > micro["iou"]  # all-negative types (L, R on record 100) count fully


@needs_official
def test_whole_window_reference_and_window_kinds():
    short = load_samples(OFFICIAL / "mit_bih_arrhythmia_test.json")
    long = load_samples(OFFICIAL / "mit_bih_arrhythmia_long_test.json")
    for samples, kind in ((short, "10s"), (long, "10-60s")):
        preds = dict(zip([s.id for s in samples], TrivialPredictor("whole_window").predict(samples), strict=True))
        table = loc.group_table(loc.score_all(samples, preds))
        assert list(table) == [f"mitdb/{kind}"]
        micro = table[f"mitdb/{kind}"]["micro"]
        assert micro["neg_acc"] == 0.0 and micro["pos_acc"] == 1.0 and 0 < micro["iou"] < 0.3
    assert short[0].duration_s == pytest.approx(10.0)


def _samples(n: int) -> list[EvalSample]:
    return [EvalSample(f"id{i}", "localization", "d", (EvalRef(Path("x"), 0.0, 10.0),),
                       ({"role": "user", "content": "<ecg>\nq"},), "No Atrial premature beat Found",
                       {"abnormal_type": "A"}) for i in range(n)]


def test_mask_plan_modes_and_single_lead_skip():
    samples = _samples(3)
    leads = {"id0": ("II", "V1"), "id1": ("II", "V5"), "id2": ("II",)}
    assert loc.mask_plan(samples, "first", leads) == {"id0": ("II",), "id1": ("II",)}
    assert loc.mask_plan(samples, "second", leads) == {"id0": ("V1",), "id1": ("V5",)}
    rnd = loc.mask_plan(samples, "random", leads)
    assert set(rnd) == {"id0", "id1"} and rnd == loc.mask_plan(samples, "random", leads)  # deterministic


class _Counting:
    name = "counting"

    def __init__(self):
        self.calls: list[int] = []

    def predict(self, samples, mask_leads=None):
        self.calls.append(len(samples))
        return [f"answer {s.id}" for s in samples]


def test_runner_batches_and_resumes(tmp_path):
    cache = tmp_path / "preds.jsonl"
    pred = _Counting()
    out = run_predictions(pred, _samples(5), cache, batch_size=2)
    assert pred.calls == [2, 2, 1] and out["id4"] == "answer id4"
    with open(cache, "a") as fh:
        fh.write('{"id": "trunc')  # an interrupted write
    pred2 = _Counting()
    out2 = run_predictions(pred2, _samples(7), cache, batch_size=4)
    assert pred2.calls == [2] and out2 == {f"id{i}": f"answer id{i}" for i in range(7)}
    assert len(load_cache(cache)) == 7


def _checkpoint(folder: Path, kind: str) -> Path:
    import yaml
    from safetensors.torch import save_file

    from anyecg.model.anyecg_chat import AnyECGChatModel
    from anyecg.model.config import BeatsEncoderConfig, ModelConfig, encoder_preset

    cfg = ModelConfig(llm="tiny", encoder=BeatsEncoderConfig() if kind == "beats" else encoder_preset("tiny"))
    folder.mkdir()
    save_file(AnyECGChatModel.from_config(cfg).trainable_state_dict(), str(folder / "model.safetensors"))
    (folder / "config.yaml").write_text(yaml.safe_dump({"model": cfg.to_dict()}))
    return folder


def test_local_model_prescreen_and_per_clip(tmp_path, monkeypatch):
    """A 25 s window of regular narrow beats, asked for L beats: per clip it is 3 questions (10, 10, 5 s); the
    packaged beat head finds no L beat in any, so all three are answered without the LLM and joined."""
    import numpy as np
    import wfdb

    from anyecg.errors import ModelError
    from anyecg.eval.predictors import LocalModelPredictor

    fs, t = 360, np.arange(30 * 360) / 360
    qrs = sum(np.exp(-((t - b) ** 2) / (2 * 0.012**2)) for b in np.arange(0.3, 30, 0.8))
    wfdb.wrsamp("beats", fs=fs, units=["mV", "mV"], sig_name=["MLII", "V1"], fmt=["16", "16"],
                p_signal=np.stack([qrs, 0.6 * qrs], axis=1), write_dir=str(tmp_path))
    sample = EvalSample("s", "localization", "synthetic", (EvalRef(tmp_path / "beats", 2.0, 27.0, ("II", "V1")),),
                        ({"role": "user", "content": "<ecg>\nLocate the Left bundle branch block beat."},),
                        "No Left bundle branch block beat Found", {"abnormal_type": "L", "duration_s": 25.0})
    with pytest.raises(ModelError, match="beat-mode"):
        LocalModelPredictor(_checkpoint(tmp_path / "patches", "all"), prescreen=True)
    pred = LocalModelPredictor(_checkpoint(tmp_path / "beats_ckpt", "beats"), prescreen=True, per_clip=True)
    assert pred.name == "model:beats_ckpt+prescreen+per-clip"
    from anyecg.chat import clip_pieces

    assert [round(p[0], 3) for p in clip_pieces(sample.ecgs[0].load(()))] == [0.0, 10.0, 20.0]
    monkeypatch.setattr(pred.chat.model, "generate", lambda *a, **k: pytest.fail("the LLM was asked"))
    assert pred.predict([sample]) == ["No Left bundle branch block beat Found"]
