"""MultiECG without a judge: does the answer name each ECG's findings? (our builder's labelled questions)

Answers in the builder's format read `ECG 1: Sinus rhythm; Atrial fibrillation. ECG 2: ...`. Per ECG the named
findings (split on ';' and ',') are compared with the ECG's labels (`meta["labels"]`), case-insensitively:
an ECG is *correct* when the two sets are equal; recall and precision are per finding. Free-text answers that
name no `ECG i:` section score 0 for that ECG.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from anyecg.eval.samples import EvalSample
from anyecg.vocabulary import STATEMENTS, in_vocabulary, label_vocabulary

_SECTION = re.compile(r"ECG\s*(\d+)\s*:\s*(.*?)(?=(?:ECG\s*\d+\s*:)|(?:New in the last ECG)|(?:No longer present)|$)",
                      re.IGNORECASE | re.DOTALL)
_CANONICAL = {n.lower(): n for n in STATEMENTS}  # a named finding in lower case → its vocabulary name


def named_findings(answer: str) -> dict[int, set[str]]:
    """ECG number (1-based) → the findings the answer names for it (lower case)."""
    out: dict[int, set[str]] = {}
    for number, body in _SECTION.findall(answer):
        parts = re.split(r"[;,]|\.\s", body.strip().rstrip("."))
        out[int(number)] = {p.strip().lower() for p in parts if p.strip()}
    return out


def findings_scores(samples: Sequence[EvalSample], predictions: Mapping[str, str]) -> dict:
    """Per-ECG exact-set accuracy, finding recall and precision, by number of ECGs and overall; strict (every named
    finding counts) and within the database's label vocabulary (`anyecg.vocabulary.label_vocabulary`: a finding its
    labels cannot hold, such as an axis on a CPSC 2018 ECG, is neither right nor wrong)."""
    per_n: dict[int, list[tuple[bool, int, int, int, bool, int, int, int]]] = {}
    for s in samples:
        labels = s.meta.get("labels")
        if not labels:
            continue
        vocabulary = label_vocabulary(s.dataset)
        named = named_findings(predictions.get(s.id, ""))
        for i, truth in enumerate(labels, start=1):
            t = {x.lower() for x in truth}
            p = named.get(i, set())
            tv = {n.lower() for n in in_vocabulary(set(truth), vocabulary)}
            pv = {n.lower() for n in in_vocabulary({_CANONICAL.get(x, x) for x in p}, vocabulary)}
            per_n.setdefault(len(labels), []).append((t == p, len(t & p), len(t), len(p),
                                                      tv == pv, len(tv & pv), len(tv), len(pv)))

    def summary(rows: list[tuple[bool, int, int, int, bool, int, int, int]]) -> dict:
        hits, found, true, named, hits_v, found_v, true_v, named_v = (sum(r[k] for r in rows) for k in range(8))
        n = len(rows)
        return {"ecgs": n, "exact": hits / n if n else float("nan"),
                "recall": found / true if true else float("nan"), "precision": found / named if named else 0.0,
                "exact_in_vocabulary": hits_v / n if n else float("nan"),
                "recall_in_vocabulary": found_v / true_v if true_v else float("nan"),
                "precision_in_vocabulary": found_v / named_v if named_v else 0.0}

    every = [r for rows in per_n.values() for r in rows]
    return {"by_n_ecgs": {str(n): summary(rows) for n, rows in sorted(per_n.items())}, "all": summary(every)}


def findings_markdown(scores: dict) -> str:
    rows = [(k, v) for k, v in scores["by_n_ecgs"].items()] + [("all", scores["all"])]
    lines = ["## MultiECG: findings named per ECG (no judge)", "",
             "Per ECG of each question: *exact* = the answer names exactly the ECG's labels; recall / precision per "
             "finding. *In vocabulary*: only the names the database's labels can hold are compared, on both sides "
             "(`anyecg.vocabulary.label_vocabulary`; a rhythm outside them counts as its family's name).", "",
             "| ECGs per question | ECGs | exact | recall | precision | exact in vocabulary | recall | precision |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {k} | {v['ecgs']} | {100 * v['exact']:.1f} | {100 * v['recall']:.1f} | {100 * v['precision']:.1f} "
              f"| {100 * v['exact_in_vocabulary']:.1f} | {100 * v['recall_in_vocabulary']:.1f} "
              f"| {100 * v['precision_in_vocabulary']:.1f} |" for k, v in rows]
    return "\n".join(lines) + "\n"
