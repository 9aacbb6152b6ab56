"""Train the 12-lead statement classifier (`anyecg.findings.classifier`) on the training records only.

    python -m anyecg.train.statement_classifier --data ../shared/data [--out PATH] [--cache runs/statement_features.npz]

Training records: `anyecg.data.statement_corpus.training_records` (PTB-XL folds 1-8, CPSC2018 A0001-A0100, the
CinC 2021 sample, Chapman-4, LUDB 1-120). One L2 logistic regression per statement with at least `MIN_POSITIVES`
positives among the records that label it; class weights balanced; C per statement by 5-fold cross-validated AUC
on the training records; the decision threshold per statement is the one that maximises the out-of-fold F1 (the
saved probabilities are shifted so that this threshold reads 0.5). Then, per statement that the criteria also
score, the combination of the two (`fit_combination`) from the criteria and the out-of-fold classifier
confidences of the same training records. Takes 4-6 min on 2 CPU cores (caches in runs/).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from anyecg.atomic import write_atomic
from anyecg.data.statement_corpus import LabelledRecord, training_records
from anyecg.findings.classifier import (
    DEFAULT_WEIGHTS,
    N_FEATURES,
    N_SHAPE,
    StatementClassifier,
    record_features,
)
from anyecg.findings.criteria import apply_criteria
from anyecg.findings.read import read_findings
from anyecg.io import read_record

MIN_POSITIVES = 8
GLOBAL_WEIGHT = 5.0  # chosen from 1, 5, 15 by the mean 5-fold CV AUC on the training records
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3)
FOLDS = 5
SEED = 0
log = logging.getLogger("anyecg.statement_classifier")


def features_of(records: list[LabelledRecord], cache: Path | None = None) -> np.ndarray:
    """[N, N_FEATURES] (NaN rows for records without 3 beats); cached by record key when `cache` is given."""
    done: dict[str, np.ndarray] = {}
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            done = dict(zip(z["keys"].tolist(), z["x"], strict=True))
    out = np.full((len(records), N_FEATURES), np.nan)
    for i, rec in enumerate(records):
        if rec.key in done and done[rec.key].shape == (N_FEATURES,):
            out[i] = done[rec.key]
            continue
        ecg = read_record(rec.path.with_suffix(".hea"), annotations=False)
        f = record_features(ecg.signal, ecg.fs, ecg.leads, amplitudes_real=rec.amplitudes_real)
        if f is not None:
            out[i] = f
        done[rec.key] = out[i]
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, keys=np.array(list(done)), x=np.stack(list(done.values())))
    return out


def label_matrix(records: list[LabelledRecord], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """y [N, S] (1 = the record has the statement) and known [N, S] (the record's database labels it)."""
    y = np.array([[n in r.names for n in names] for r in records], dtype=bool)
    known = np.array([[r.known is None or n in r.known for n in names] for r in records], dtype=bool)
    return y, known


def statement_names(records: list[LabelledRecord]) -> list[str]:
    counts: dict[str, int] = {}
    for r in records:
        for n in r.names:
            if r.known is None or n in r.known:
                counts[n] = counts.get(n, 0) + 1
    return sorted(n for n, c in counts.items() if c >= MIN_POSITIVES)


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    best, thr = -1.0, 0.5
    for t in np.unique(np.round(p, 3)):
        pred = p >= t
        tp = float(np.sum(pred & y))
        f1 = 2 * tp / (np.sum(pred) + np.sum(y)) if tp else 0.0
        if f1 > best:
            best, thr = f1, float(t)
    return thr


def fit(x: np.ndarray, y: np.ndarray, known: np.ndarray, names: list[str],
        global_weight: float = GLOBAL_WEIGHT) -> tuple[StatementClassifier, dict, np.ndarray]:
    """The classifier, a per-statement report, and out-of-fold confidences [N, S] (NaN where not known).
    `global_weight` scales the standardised amplitude and rhythm features against the 840 median-beat samples
    (so that the L2 penalty does not drown the few global features)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    mean = np.nanmean(x, axis=0)
    scale = np.nanstd(x, axis=0) + 1e-6
    scale[N_SHAPE:] /= global_weight
    z = np.nan_to_num((x - mean) / scale)
    coefs, intercepts, report = [], [], {}
    oof_all = np.full(y.shape, np.nan)
    for j, name in enumerate(names):
        rows = known[:, j]
        zj, yj = z[rows], y[rows, j]
        folds = StratifiedKFold(min(FOLDS, int(yj.sum())), shuffle=True, random_state=SEED)
        best = (-1.0, C_GRID[0], None)
        for c in C_GRID:
            oof = np.zeros(len(yj))
            for tr, te in folds.split(zj, yj):
                m = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(zj[tr], yj[tr])
                oof[te] = m.predict_proba(zj[te])[:, 1]
            auc = roc_auc_score(yj, oof)
            if auc > best[0]:
                best = (auc, c, oof)
        auc, c, oof = best
        thr = _best_threshold(yj, oof)
        m = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(zj, yj)
        shift = _logit(thr)
        oof_all[rows, j] = _sigmoid(_logit(oof) - shift)
        coefs.append(m.coef_[0])
        intercepts.append(m.intercept_[0] - shift)
        report[name] = {"positives": int(yj.sum()), "records": len(yj), "C": c, "cv_auc": round(float(auc), 4),
                        "threshold": round(thr, 4)}
        log.info("%-45s pos %3d/%3d  C %-6g cv AUC %.3f", name, yj.sum(), len(yj), c, auc)
    clf = StatementClassifier(tuple(names), mean, scale, np.array(coefs), np.array(intercepts), {})
    return clf, report, oof_all


def _logit(p: np.ndarray | float) -> np.ndarray | float:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-z))


def criteria_of(records: list[LabelledRecord], cache: Path | None = None) -> list[dict[str, float]]:
    """The criteria confidences (statement name → confidence) of each record, from `read_findings`."""
    done: dict[str, dict[str, float]] = {}
    if cache is not None and cache.is_file():
        done = json.loads(cache.read_text())
    for rec in records:
        if rec.key not in done:
            ecg = read_record(rec.path.with_suffix(".hea"), annotations=False)
            rules = apply_criteria(read_findings(ecg), amplitudes_real=rec.amplitudes_real)
            done[rec.key] = {n: s.confidence for n, s in rules.items()}
    if cache is not None:
        write_atomic(cache, json.dumps(done))
    return [done[r.key] for r in records]


def fit_combination(rules: list[dict[str, float]], oof: np.ndarray, y: np.ndarray, known: np.ndarray,
                    names: list[str]) -> dict[str, list[float]]:
    """Per statement that both sides score: logistic regression on (logit criteria, logit classifier) over the
    training records (the classifier's out-of-fold confidences), class weights balanced, then shifted so that the
    F1-best threshold reads 0.5. Returns name → [w_criteria, w_classifier, bias]."""
    from sklearn.linear_model import LogisticRegression

    out: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        c = np.array([r.get(name, np.nan) for r in rules])
        rows = known[:, j] & ~np.isnan(c) & ~np.isnan(oof[:, j])
        if rows.sum() < 50 or y[rows, j].sum() < MIN_POSITIVES:
            continue
        z = np.stack([_logit(c[rows]), _logit(oof[rows, j])], axis=1)
        m = LogisticRegression(C=1.0, class_weight="balanced").fit(z, y[rows, j])
        thr = _best_threshold(y[rows, j], m.predict_proba(z)[:, 1])
        out[name] = [float(m.coef_[0, 0]), float(m.coef_[0, 1]), float(m.intercept_[0] - _logit(thr))]
        log.info("combine %-40s criteria %.2f classifier %.2f", name, *out[name][:2])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m anyecg.train.statement_classifier", description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared data folder")
    p.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--cache", type=Path, default=Path("runs/statement_features.npz"), help="feature cache")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    t0 = time.time()
    records = training_records(args.data)
    x = features_of(records, args.cache)
    usable = ~np.isnan(x[:, 0])
    records = [r for r, ok in zip(records, usable, strict=True) if ok]
    x = x[usable]
    names = statement_names(records)
    y, known = label_matrix(records, names)
    log.info("%d training records (%d without 3 beats left out), %d statements, features in %.0f s",
             len(records), int((~usable).sum()), len(names), time.time() - t0)
    clf, report, oof = fit(x, y, known, names)
    rules = criteria_of(records, args.cache.with_name("statement_criteria.json") if args.cache else None)
    combination = fit_combination(rules, oof, y, known, names)
    meta = {"command": "python -m anyecg.train.statement_classifier " + " ".join(argv or sys.argv[1:]),
            "records": len(records), "statements": report, "combine": combination,
            "seconds": round(time.time() - t0, 1)}
    StatementClassifier(clf.names, clf.mean, clf.scale, clf.coef, clf.intercept, meta).save(args.out)
    log.info("wrote %s (%d statements) in %.0f s", args.out, len(names), time.time() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
