"""Statement checks on held-out records: CPSC2018 A0101-A0150 (its 9 classes) and PTB-XL strat_fold 9 (diagnostic
super-classes and rhythm statements). Per class: AUC and F1 (a statement counts as said at confidence ≥ 0.5), for
the classifier alone, the criteria alone and the combination; macro AUC over the classes a scorer ranks.

A super-class score is the highest confidence among the statements that count toward it (`vocabulary.STATEMENTS`);
PTB-XL truth is the record's SCP codes' diagnostic class at any likelihood (PTB-XL's benchmark convention).
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from anyecg.data.statement_corpus import LabelledRecord, held_out_sets
from anyecg.findings.criteria import apply_criteria
from anyecg.findings.read import read_findings
from anyecg.findings.statements import (
    REPORT_CONFIDENCE,
    classifier_scores,
    combined_confidence,
    default_classifier,
)
from anyecg.io import read_record
from anyecg.vocabulary import CPSC, SCP, STATEMENTS

SCORERS = ("classifier", "criteria", "combined")
SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")
CPSC_CLASSES = tuple(CPSC)
REFERENCE = "the paper's 8B model 71.05 zero-shot, MERL 82.8 (CPSC2018 macro AUC)"
log = logging.getLogger(__name__)


def record_scores(rec: LabelledRecord, classifier) -> dict[str, dict[str, float]]:
    """scorer → statement name → confidence, for one record."""
    ecg = read_record(rec.path.with_suffix(".hea"), annotations=False)
    findings = read_findings(ecg)
    rules = {n: s.confidence for n, s in apply_criteria(findings, amplitudes_real=rec.amplitudes_real).items()}
    learned = classifier_scores(findings, ecg.signal, classifier, amplitudes_real=rec.amplitudes_real)
    weights = classifier.meta.get("combine") if classifier else None
    combined = {n: (combined_confidence(n, rules[n], learned[n], weights) if n in rules and n in learned
                    else rules.get(n, learned.get(n))) for n in {*rules, *learned}}
    return {"classifier": learned, "criteria": rules, "combined": combined}


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y], s[~y]
    if not len(pos) or not len(neg):
        return math.nan
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def _f1(y: np.ndarray, s: np.ndarray) -> float:
    pred = s >= REPORT_CONFIDENCE
    tp = float(np.sum(pred & y))
    denom = float(np.sum(pred) + np.sum(y))
    return 2 * tp / denom if denom else math.nan


def score_table(truth: list[set[str]], scores: list[dict[str, dict[str, float]]], classes: tuple[str, ...],
                score_of: Callable[[dict[str, float], str], float | None]) -> dict:
    """Per class and scorer: positives, AUC, F1; and the macro AUC per scorer (over classes it ranks)."""
    out: dict = {"classes": {}, "macro_auc": {}}
    for cls in classes:
        y = np.array([cls in t for t in truth])
        row: dict = {"positives": int(y.sum())}
        for scorer in SCORERS:
            vals = [score_of(s[scorer], cls) for s in scores]
            if all(v is None for v in vals):
                row[scorer] = None
                continue
            s = np.array([0.0 if v is None else v for v in vals])
            row[scorer] = {"auc": _auc(y, s), "f1": _f1(y, s)}
        out["classes"][cls] = row
    for scorer in SCORERS:
        aucs = [r[scorer]["auc"] for r in out["classes"].values() if r[scorer] and not math.isnan(r[scorer]["auc"])]
        out["macro_auc"][scorer] = {"auc": float(np.mean(aucs)) if aucs else math.nan, "classes": len(aucs)}
    return out


def _best_of(names: tuple[str, ...]) -> Callable[[dict[str, float], str], float | None]:
    def score(conf: dict[str, float], _cls: str) -> float | None:
        vals = [conf[n] for n in names if n in conf]
        return max(vals) if vals else None
    return score


def _superclass_score(conf: dict[str, float], cls: str) -> float | None:
    return _best_of(tuple(n for n, (_, sup) in STATEMENTS.items() if sup == cls))(conf, cls)


def _ptbxl_superclasses(scp_csv: Path) -> dict[str, str]:
    with open(scp_csv, newline="", encoding="utf-8") as f:
        return {r[""]: r["diagnostic_class"] for r in csv.DictReader(f) if r["diagnostic_class"]}


def _rhythm_codes(scp_csv: Path) -> tuple[str, ...]:
    with open(scp_csv, newline="", encoding="utf-8") as f:
        return tuple(r[""] for r in csv.DictReader(f) if r["rhythm"] == "1.0")


def evaluate(shared: Path) -> dict:
    """All tables: CPSC2018 held-out classes, PTB-XL fold 9 super-classes and rhythm."""
    clf = default_classifier()
    sets = held_out_sets(shared)
    scores = {}
    for name, records in sets.items():
        scores[name] = [record_scores(r, clf) for r in records]
        log.info("%s: %d records scored", name, len(records))
    cpsc_truth = [set(r.codes) for r in sets["cpsc2018"]]
    cpsc = score_table(cpsc_truth, scores["cpsc2018"], CPSC_CLASSES,
                       lambda conf, cls: _best_of((CPSC[cls][0],))(conf, cls))
    scp_csv = shared / "ptbxl-500" / "scp_statements.csv"
    sup = _ptbxl_superclasses(scp_csv)
    ptb_super = score_table([{sup[c] for c in r.codes if c in sup} for r in sets["ptbxl"]], scores["ptbxl"],
                            SUPERCLASSES, _superclass_score)
    rhythm_codes = tuple(c for c in _rhythm_codes(scp_csv) if any(c in r.codes for r in sets["ptbxl"]))
    ptb_rhythm = score_table([set(r.codes) for r in sets["ptbxl"]], scores["ptbxl"], rhythm_codes,
                             lambda conf, cls: _best_of(SCP[cls])(conf, cls))
    return {"records": {k: len(v) for k, v in sets.items()}, "cpsc2018": cpsc, "ptbxl_super": ptb_super,
            "ptbxl_rhythm": ptb_rhythm, "classifier": (clf.meta.get("command") if clf else None)}


def _cell(row: dict | None, key: str) -> str:
    if not row or math.isnan(row[key]):
        return "—"
    return f"{row[key]:.3f}"


def _table(title: str, table: dict, names: Callable[[str], str]) -> list[str]:
    lines = [f"### {title}", "", "| class | statement | positives | AUC classifier | AUC criteria | AUC combined "
             "| F1 classifier | F1 criteria | F1 combined |", "|---|---|---|---|---|---|---|---|---|"]
    for cls, row in table["classes"].items():
        aucs = " | ".join(_cell(row[s], "auc") for s in SCORERS)
        f1s = " | ".join(_cell(row[s], "f1") for s in SCORERS)
        lines.append(f"| {cls} | {names(cls)} | {row['positives']} | {aucs} | {f1s} |")
    macro = " | ".join(f"**{_cell(table['macro_auc'][s], 'auc')}** ({table['macro_auc'][s]['classes']})"
                       for s in SCORERS)
    lines += [f"| macro AUC (classes) | | | {macro} | | | |", ""]
    return lines


def markdown(result: dict, command: str) -> str:
    cpsc_f1_af = result["cpsc2018"]["classes"]["AF"]["combined"]
    lines = [f"`{command}`", "", "# Findings: 12-lead statements on held-out records", "",
             f"Held out: CPSC2018 A0101-A0150 ({result['records']['cpsc2018']} records) and PTB-XL strat_fold 9 of "
             f"ptbxl-500 ({result['records']['ptbxl']} records). Nothing was chosen while looking at these records: "
             "criteria thresholds are textbook values, the classifier's C, thresholds and the criteria/classifier "
             "combination were fitted on the training records only "
             f"(`{result['classifier']}`).", "",
             "A statement counts as said at confidence ≥ 0.5 (F1). Classifier = the learned 12-lead classifier "
             "alone; criteria = the measured rules alone (— where no rule covers the class); combined = what "
             "`read_findings` reports. PTB-XL super-class score = the highest confidence among the statements that "
             "count toward it.", "",
             f"Goal: CPSC macro AUC ≥ 0.85 (reference: {REFERENCE}); AF F1 ≥ 0.9 "
             f"(combined: {_cell(cpsc_f1_af, 'f1')}).", ""]
    lines += _table("CPSC2018 A0101-A0150 (9 classes)", result["cpsc2018"], lambda c: CPSC[c][0])
    lines += _table("PTB-XL fold 9: diagnostic super-classes", result["ptbxl_super"], lambda c: "(best of its statements)")
    lines += _table("PTB-XL fold 9: rhythm", result["ptbxl_rhythm"], lambda c: SCP[c][0])
    return "\n".join(lines)


def run_part(shared: Path, command: str) -> tuple[dict, str]:
    """`anyecg eval findings --part statements`."""
    result = evaluate(shared)
    return result, markdown(result, command)
