"""Report → zero-shot classification procedure with a stub text encoder; label sets; the MiniLM default."""

from pathlib import Path

import numpy as np
import pytest

from anyecg.eval.labels import CPSC2018, load_label_set, positive_codes, ptbxl_positive_codes
from anyecg.eval.samples import EvalRef, EvalSample
from anyecg.eval.zeroshot import as_report_question, evaluate_reports, report_phrases
from anyecg.prompts import REPORT_QUESTION

SCP = Path(__file__).resolve().parents[2] / "shared/data/ptbxl-meta/scp_statements.csv"


class _BagOfWords:
    """Unit vectors over a fixed vocabulary: cosine = word overlap."""

    vocab = ("atrial", "fibrillation", "normal", "right", "left", "bundle", "branch", "block", "st-segment")

    def encode(self, texts):
        m = np.array([[float(w in t.lower().split()) for w in self.vocab] for t in texts]) + 1e-6
        return m / np.linalg.norm(m, axis=1, keepdims=True)


def _sample(sid, labels):
    return EvalSample(sid, "report", "cpsc2018", (EvalRef(Path("x")),), (), "", {"labels": labels})


def test_report_phrases_and_prompt():
    assert report_phrases("Report: Sinus rhythm, Left bundle branch block") == ["Sinus rhythm",
                                                                                "Left bundle branch block"]
    asked = as_report_question(_sample("a", []))
    assert asked.prompt[0]["content"] == f"<ecg>\n{REPORT_QUESTION}"


def test_zero_shot_auc_and_bleu():
    samples = [_sample("a", "AF"), _sample("b", ["Normal"]), _sample("c", "LBBB"), _sample("d", "AF,RBBB"),
               _sample("e", [])]
    preds = {"a": "Report: Atrial fibrillation", "b": "Report: Normal", "c": "Report: Left bundle branch block",
             "d": "Report: Atrial fibrillation, Right bundle branch block", "e": "Report: Normal"}
    r = evaluate_reports(samples, preds, CPSC2018, _BagOfWords())
    assert r["n"] == 4 and r["n_no_label"] == 1  # sample e has no positive class: left out, as officially
    assert r["auc"]["AF"] == 1.0 and r["auc"]["Normal"] == 1.0 and r["macro_auc"] == 1.0
    assert set(r["auc_skipped"]) == {"I-AVB", "PAC", "PVC", "STD", "STE"}
    assert r["bleu"]["bleu1"] == pytest.approx(1.0)  # answers equal the official reference texts
    assert r["rouge"]["rougeL"] == pytest.approx(1.0)


def test_label_sets():
    assert positive_codes(["AF,RBBB", "st-segment elevated"], CPSC2018) == {"AF", "RBBB", "STE"}
    if not SCP.is_file():
        pytest.skip("../shared/data/ptbxl-meta absent")
    form, rhythm = load_label_set("ptbxl_form", SCP), load_label_set("ptbxl_rhythm", SCP)
    assert len(form.codes) == 19 and len(rhythm.codes) == 12 and rhythm.texts[0] == "sinus rhythm"
    sub = load_label_set("ptbxl_sub")
    assert ptbxl_positive_codes("{'IMI': 100.0, 'SR': 0.0}", load_label_set("ptbxl_super"), SCP) == {"MI"}
    assert ptbxl_positive_codes({"LAFB": 100.0}, sub, SCP) == {"LAFB/LPFB"}
    assert ptbxl_positive_codes({"SR": 0.0, "PVC": 100.0}, rhythm, SCP) == {"SR"}


@pytest.mark.slow
def test_default_minilm_encoder():
    from anyecg.eval.zeroshot import TextEncoder

    enc = TextEncoder()
    e = enc.encode(["atrial fibrillation", "AF", "normal ECG"])
    assert e.shape == (3, 384) and np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-4)
