"""Hand-computed cases for the evaluation metrics (IoU summaries, BLEU, ROUGE, AUC, exact match)."""

import math

import numpy as np
import pytest

from anyecg.eval import localization as loc
from anyecg.eval.samples import EvalRef, EvalSample
from anyecg.eval.text_metrics import (
    corpus_bleu_individual,
    exact_match,
    grouped_accuracy,
    per_class_auc,
    rouge_f,
)

NO_V = "No Premature ventricular contraction Found"


def _sample(truth: str, sid: str = "s", typ: str = "V") -> EvalSample:
    return EvalSample(sid, "localization", "mitdb", (EvalRef("x", 0.0, 10.0),),
                      ({"role": "user", "content": "<ecg>\nLocate"},), truth, {"abnormal_type": typ})


@pytest.mark.parametrize(("truth", "pred", "official", "strict"), [
    ("Duration: 1.0s-3.0s", "Duration: 2.0s-4.0s", 1 / 3, 1 / 3),
    ("Duration: 1.0s-2.0s", "Duration: 2.0s-3.0s", 0.0, 0.0),  # touching: no overlap
    ("Duration: 0.0s-2.0s, 4.0s-6.0s", "Duration: 1.0s-5.0s", 2 / 6, 2 / 6),  # pairwise overlaps / merged union
    ("Duration: 1.0s-3.0s", "Duration: 1.0s-3.0s", 1.0, 1.0),
    (NO_V, NO_V, 1.0, math.nan),  # both negative: official 1, strict excluded
    (NO_V, "Duration: 1.0s-3.0s", 0.0, 0.0),
    ("Duration: 1.0s-3.0s", NO_V, 0.0, 0.0),
    ("Duration: 1.0s-3.0s", "I think there is a PVC", 0.0, 0.0),  # parse failure
])
def test_sample_scores(truth, pred, official, strict):
    s = loc.score_sample(_sample(truth), pred)
    assert s.iou == pytest.approx(official)
    assert (math.isnan(s.strict) and math.isnan(strict)) or s.strict == pytest.approx(strict)


def test_summary_hand_computed():
    samples = [_sample("Duration: 1.0s-3.0s", "a"), _sample("Duration: 1.0s-2.0s", "b"), _sample(NO_V, "c"),
               _sample("No Atrial premature beat Found", "d", "A")]
    preds = {"a": "Duration: 2.0s-4.0s", "b": "garbage", "c": NO_V, "d": "Duration: 0.0s-10.0s"}
    table = loc.group_table(loc.score_all(samples, preds))["mitdb/10s"]
    v, a = table["types"]["V"], table["types"]["A"]
    assert v["iou"] == pytest.approx((1 / 3 + 0 + 1) / 3)
    assert v["strict"] == pytest.approx((1 / 3 + 0) / 2)
    assert v["iou_pos"] == pytest.approx(1 / 6)
    assert v["neg_share"] == pytest.approx(1 / 3)
    assert v["pos_acc"] == pytest.approx(0.5) and v["neg_acc"] == 1.0 and v["valid"] == pytest.approx(2 / 3)
    assert a["iou"] == 0.0 and a["neg_acc"] == 0.0
    assert table["macro"]["iou"] == pytest.approx((v["iou"] + 0.0) / 2)
    assert table["micro"]["iou"] == pytest.approx((1 / 3 + 0 + 1 + 0) / 4)


def test_bleu_individual_ngrams():
    # unigrams 3/4, bigrams 2/3, trigrams 1/2, 4-grams 0/1, equal lengths → BP = 1
    assert corpus_bleu_individual(["a b c d"], ["a b c e"]) == pytest.approx([0.75, 2 / 3, 0.5, 0.0])
    # short hypothesis: BP = exp(1 - 6/3); 4-gram denominator is max(1, 0) = 1 with no match
    bp = math.exp(1 - 2)
    assert corpus_bleu_individual(["a b c d e f"], ["a b c"]) == pytest.approx([bp, bp, bp, 0.0])
    # corpus level: counts summed over sentences before dividing
    c = corpus_bleu_individual(["a b c d", "x y"], ["a b c e", "x z"])
    assert c[0] == pytest.approx(4 / 6) and c[1] == pytest.approx(2 / 4)
    assert corpus_bleu_individual(["a b"], ["c d"]) == [0.0] * 4


def test_rouge_hand_computed():
    r = rouge_f(["a b c d"], ["a b e"])
    assert r["rouge1"] == pytest.approx(4 / 7)
    assert r["rouge2"] == pytest.approx(0.4)
    assert r["rougeL"] == pytest.approx(4 / 7)


def test_auc_per_class_and_skipped():
    labels = np.array([[1, 1], [0, 1], [1, 1], [0, 1]])
    scores = np.array([[0.9, 0.1], [0.1, 0.2], [0.4, 0.3], [0.5, 0.4]])
    r = per_class_auc(labels, scores, ["x", "y"])
    assert r["auc"] == {"x": pytest.approx(0.75)} and r["skipped"] == ["y"] and r["macro"] == pytest.approx(0.75)


def test_exact_match_and_groups():
    assert exact_match("Yes", "yes") and not exact_match("yes", "yes ")
    g = grouped_accuracy(["a", "a", "b"], [True, False, True])
    assert g["per_group"] == {"a": 0.5, "b": 1.0} and g["macro"] == 0.75 and g["micro"] == pytest.approx(2 / 3)


def test_multiecg_findings_scores() -> None:
    from anyecg.eval.findings import findings_scores, named_findings
    from anyecg.eval.samples import EvalSample

    answer = "ECG 1: Sinus rhythm. ECG 2: Atrial fibrillation; Premature ventricular contractions. New in the last ECG: x."
    assert named_findings(answer) == {1: {"sinus rhythm"},
                                      2: {"atrial fibrillation", "premature ventricular contractions"}}
    sample = EvalSample("s", "multiecg", "cinc2021", (), (), "", {"labels": [["Sinus rhythm"], ["Atrial fibrillation"]]})
    scores = findings_scores([sample], {"s": answer})["all"]
    assert scores["ecgs"] == 2 and scores["exact"] == 0.5
    assert scores["recall"] == 1.0 and abs(scores["precision"] - 2 / 3) < 1e-9


def test_multiecg_scores_within_the_database_label_vocabulary() -> None:
    from anyecg.eval.findings import findings_scores
    from anyecg.eval.samples import EvalSample
    from anyecg.vocabulary import in_vocabulary, label_vocabulary

    cpsc = label_vocabulary("cpsc2018")
    assert len(cpsc) == 9 and "Normal ECG" in cpsc and "Sinus rhythm" not in cpsc
    assert in_vocabulary({"Sinus tachycardia", "Left axis deviation", "Atrial fibrillation"}, cpsc) == \
        {"Atrial fibrillation"}
    assert in_vocabulary({"Sinus tachycardia"}, label_vocabulary("mitdb")) == {"Sinus rhythm"}  # its family
    answer = ("ECG 1: Normal ECG; Sinus tachycardia; Left axis deviation. "
              "ECG 2: Atrial fibrillation; T wave abnormality; Premature ventricular contraction.")
    sample = EvalSample("s", "multiecg", "cpsc2018", (), (), "",
                        {"labels": [["Normal ECG", "Sinus rhythm"], ["Atrial fibrillation"]]})
    scores = findings_scores([sample], {"s": answer})["all"]
    assert scores["exact"] == 0.0  # strictly, every named finding counts
    # CPSC labels cannot hold an axis, a T wave or a rhythm other than AF: ECG 1 right, ECG 2 names a PVC too
    assert scores["exact_in_vocabulary"] == 0.5
    assert scores["recall_in_vocabulary"] == 1.0 and scores["precision_in_vocabulary"] == 2 / 3


def test_multiecg_aspect_questions_are_scored_on_that_aspect() -> None:
    from anyecg.eval.findings import findings_scores, named_findings
    from anyecg.eval.samples import EvalSample

    answer = ("ECG 1: no conduction finding reported. ECG 2: heart rate 80 bpm; Right bundle branch block. "
              "New in the last ECG: Right bundle branch block.")
    assert named_findings(answer) == {1: set(), 2: {"right bundle branch block"}}
    sample = EvalSample("c", "multiecg", "cpsc2018", (), (), "",
                        {"aspect": "conduction", "labels": [["Atrial fibrillation"],
                                                            ["Right bundle branch block", "ST depression"]]})
    scores = findings_scores([sample], {"c": answer})
    assert scores["all"]["exact"] == 1.0 and scores["by_aspect"]["conduction"]["exact_in_vocabulary"] == 1.0
