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
