"""Text and classification metrics of the paper's protocols (official code: `inference.py`, §5 of the digest).

- `corpus_bleu_individual`: nltk `corpus_bleu` with weights (1,0,0,0), (0,1,0,0), ... (individual n-gram
  precision times the corpus brevity penalty, whitespace tokens, one reference, no smoothing).
- `rouge_f`: mean ROUGE-1/2/L F-measure (`rouge-score`; the official code used the `rouge` package).
- `per_class_auc`: sklearn ROC AUC per class; classes with one label value are reported as skipped.
- `exact_match`: the ECG-QA rule `truth.lower() == prediction.lower()` (no strip).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu_individual(references: Sequence[str], hypotheses: Sequence[str], max_n: int = 4) -> list[float]:
    """[BLEU-1, ..., BLEU-max_n] as nltk's corpus_bleu with one-hot weights (the paper's Table 5).

    Per n: p_n = sum of clipped n-gram matches / sum of max(1, hypothesis n-gram count) over the corpus;
    score = BP * p_n with BP = exp(1 - r/c) when c < r (c, r: total hypothesis / reference tokens).
    nltk returns 0 for every n when no unigram matches, and ~0 (BP * float_min) when p_n has no match.
    """
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    num = [0] * (max_n + 1)
    den = [0] * (max_n + 1)
    hyp_len = ref_len = 0
    for ref, hyp in zip(references, hypotheses, strict=True):
        r_tok, h_tok = ref.split(), hyp.split()
        hyp_len += len(h_tok)
        ref_len += len(r_tok)
        for n in range(1, max_n + 1):
            h_counts, r_counts = _ngrams(h_tok, n), _ngrams(r_tok, n)
            num[n] += sum(min(c, r_counts[g]) for g, c in h_counts.items())
            den[n] += max(1, sum(h_counts.values()))
    if num[1] == 0:
        return [0.0] * max_n
    bp = 1.0 if hyp_len > ref_len else (0.0 if hyp_len == 0 else math.exp(1 - ref_len / hyp_len))
    return [bp * num[n] / den[n] if num[n] else 0.0 for n in range(1, max_n + 1)]


def rouge_f(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, float]:
    """Mean F-measure of ROUGE-1, ROUGE-2 and ROUGE-L over the pairs (keys rouge1, rouge2, rougeL)."""
    from absl import logging as absl_logging
    from rouge_score import rouge_scorer

    absl_logging.set_verbosity(absl_logging.WARNING)  # its INFO "Using default tokenizer." is no warning
    keys = ("rouge1", "rouge2", "rougeL")
    scorer = rouge_scorer.RougeScorer(list(keys), use_stemmer=False)
    sums = dict.fromkeys(keys, 0.0)
    for ref, hyp in zip(references, hypotheses, strict=True):
        scores = scorer.score(ref, hyp)
        for k in keys:
            sums[k] += scores[k].fmeasure
    n = max(1, len(references))
    return {k: v / n for k, v in sums.items()}


def per_class_auc(labels: np.ndarray, scores: np.ndarray, names: Sequence[str]) -> dict:
    """ROC AUC per class for multi-label `labels` (0/1, [n, k]) and `scores` ([n, k]).

    Returns {"auc": {name: auc}, "macro": mean over scorable classes, "skipped": [names with one label value]}.
    """
    from sklearn.metrics import roc_auc_score

    per, skipped = {}, []
    for j, name in enumerate(names):
        col = labels[:, j]
        if col.min() == col.max():
            skipped.append(name)
            continue
        per[name] = float(roc_auc_score(col, scores[:, j]))
    macro = float(np.mean(list(per.values()))) if per else float("nan")
    return {"auc": per, "macro": macro, "skipped": skipped}


def exact_match(truth: str, prediction: str) -> bool:
    """ECG-QA's official rule: lower-cased string equality (no stripping, no punctuation handling)."""
    return truth.lower() == prediction.lower()


def grouped_accuracy(groups: Sequence[str], correct: Sequence[bool]) -> dict:
    """Accuracy per group, macro (mean of groups) and micro (all samples); counts per group."""
    per: dict[str, list[bool]] = {}
    for g, c in zip(groups, correct, strict=True):
        per.setdefault(g, []).append(bool(c))
    acc = {g: sum(v) / len(v) for g, v in sorted(per.items())}
    return {
        "per_group": acc,
        "counts": {g: len(v) for g, v in sorted(per.items())},
        "macro": float(np.mean(list(acc.values()))) if acc else float("nan"),
        "micro": sum(map(bool, correct)) / len(correct) if correct else float("nan"),
    }
