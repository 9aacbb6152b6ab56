"""MultiECG without a judge: does the answer name each ECG's findings? (our builder's labelled questions)

Answers in the builder's format read `ECG 1: Sinus rhythm; Atrial fibrillation. ECG 2: ...`. Per ECG the named
findings (split on ';' and ',') are compared with the ECG's labels (`meta["labels"]`; for a question about one
aspect, its labels of that aspect, `anyecg.data.labels.aspects_of`), case-insensitively: an ECG is *correct* when
the two sets are equal; recall and precision are per finding. "no rhythm finding reported" names nothing; a heart
rate is a number, not a finding. *In vocabulary*: both sets cut to the names the database's labels can hold
(`anyecg.vocabulary.label_vocabulary`; CPSC 2018 labels 9 classes, so an axis named on its ECG is neither right nor
wrong). Free-text answers that name no `ECG i:` section score 0 for that ECG.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from anyecg.data.labels import aspects_of
from anyecg.eval.samples import EvalSample
from anyecg.vocabulary import STATEMENTS, in_vocabulary, label_vocabulary

_SECTION = re.compile(r"ECG\s*(\d+)\s*:\s*(.*?)(?=(?:ECG\s*\d+\s*:)|(?:New in the last ECG)|(?:No longer present)|$)",
                      re.IGNORECASE | re.DOTALL)
_CANONICAL = {n.lower(): n for n in STATEMENTS}  # a named finding in lower case → its vocabulary name
_NOT_A_FINDING = re.compile(r"^(no .* finding reported|heart rate\b.*)$")


def named_findings(answer: str) -> dict[int, set[str]]:
    """ECG number (1-based) → the findings the answer names for it (lower case)."""
    out: dict[int, set[str]] = {}
    for number, body in _SECTION.findall(answer):
        parts = re.split(r"[;,]|\.\s", body.strip().rstrip("."))
        named = (p.strip().lower() for p in parts)
        out[int(number)] = {p for p in named if p and not _NOT_A_FINDING.match(p)}
    return out


def _of_aspect(names: set[str], aspect: str | None) -> set[str]:
    return names if aspect in (None, "overall") else {n for n in names if aspect in aspects_of(n)}


def findings_scores(samples: Sequence[EvalSample], predictions: Mapping[str, str]) -> dict:
    """Per-ECG exact-set accuracy, finding recall and precision, by number of ECGs, by aspect and overall; strict
    (every named finding counts) and within the database's label vocabulary."""
    rows: list[tuple[int, str, tuple[bool, int, int, int, bool, int, int, int]]] = []
    for s in samples:
        labels = s.meta.get("labels")
        if not labels:
            continue
        aspect = s.meta.get("aspect")
        vocabulary = label_vocabulary(s.dataset)
        named = named_findings(predictions.get(s.id, ""))
        for i, truth in enumerate(labels, start=1):
            truth = _of_aspect(set(truth), aspect)
            t = {x.lower() for x in truth}
            p = named.get(i, set())
            tv = {n.lower() for n in in_vocabulary(truth, vocabulary)}
            pv = {n.lower() for n in _of_aspect(set(in_vocabulary({_CANONICAL.get(x, x) for x in p}, vocabulary)),
                                                aspect)}
            rows.append((len(labels), aspect or "overall",
                         (t == p, len(t & p), len(t), len(p), tv == pv, len(tv & pv), len(tv), len(pv))))

    def summary(group: list[tuple[bool, int, int, int, bool, int, int, int]]) -> dict:
        hits, found, true, named, hits_v, found_v, true_v, named_v = (sum(r[k] for r in group) for k in range(8))
        n = len(group)
        return {"ecgs": n, "exact": hits / n if n else float("nan"),
                "recall": found / true if true else float("nan"), "precision": found / named if named else 0.0,
                "exact_in_vocabulary": hits_v / n if n else float("nan"),
                "recall_in_vocabulary": found_v / true_v if true_v else float("nan"),
                "precision_in_vocabulary": found_v / named_v if named_v else 0.0}

    return {"by_n_ecgs": {str(n): summary([r for k, _, r in rows if k == n]) for n in sorted({k for k, _, _ in rows})},
            "by_aspect": {a: summary([r for _, b, r in rows if b == a]) for a in sorted({b for _, b, _ in rows})},
            "all": summary([r for _, _, r in rows])}


def findings_markdown(scores: dict) -> str:
    rows = [(f"{k} ECGs", v) for k, v in scores["by_n_ecgs"].items()] + \
        [(f"aspect {k}", v) for k, v in scores.get("by_aspect", {}).items()] + [("all", scores["all"])]
    lines = ["## MultiECG: findings named per ECG (no judge)", "",
             "Per ECG of each question: *exact* = the answer names exactly the ECG's labels (of the question's "
             "aspect); recall / precision per finding. *In vocabulary*: only the names the database's labels can hold "
             "are compared, on both sides (`anyecg.vocabulary.label_vocabulary`; a rhythm outside them counts as its "
             "family's name).", "",
             "| questions | ECGs | exact | recall | precision | exact in vocabulary | recall | precision |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {k} | {v['ecgs']} | {100 * v['exact']:.1f} | {100 * v['recall']:.1f} | {100 * v['precision']:.1f} "
              f"| {100 * v['exact_in_vocabulary']:.1f} | {100 * v['recall_in_vocabulary']:.1f} "
              f"| {100 * v['precision_in_vocabulary']:.1f} |" for k, v in rows]
    return "\n".join(lines) + "\n"
