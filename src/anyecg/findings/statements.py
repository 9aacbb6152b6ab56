"""12-lead statements: the criteria (`criteria.py`) and the learned classifier (`classifier.py`) combined into one
confidence per statement, with its source ("criteria", "classifier" or "both") and evidence.

Where both speak, the confidence is a logistic regression on the two logits whose weights were fitted on the
training records (the classifier's out-of-fold confidences; `anyecg.train.statement_classifier.fit_combination`,
stored with the classifier). For a statement without fitted weights, a weighted mean: the criteria weigh
`CRITERIA_WEIGHT` (0.7), 0.3 for the normal ECG, whose criteria side is only "no abnormal criterion". Statements
without criteria (infarct and ischemia by region, T-wave and non-specific ST-T changes, atrial enlargement, ...)
come from the classifier alone. A statement is reported when its confidence reaches 0.5.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from anyecg.findings.classifier import StatementClassifier, load_classifier, record_features
from anyecg.findings.criteria import ABNORMAL, apply_criteria
from anyecg.findings.summary import ECTOPY_CLASS
from anyecg.findings.types import ECGFindings, Evidence, Statement

REPORT_CONFIDENCE = 0.5
CRITERIA_WEIGHT = 0.7
CRITERIA_WEIGHT_FOR = {"Normal ECG": 0.3}
CLASSIFIER_MAX_S = 60.0  # the classifier reads the first minute (its training records are 10-60 s)
NEEDS_P_WAVES = ("First degree AV block",)  # not made without a measured PR
INCOMPLETE = {"Right bundle branch block": "Incomplete right bundle branch block",
              "Left bundle branch block": "Incomplete left bundle branch block"}  # complete → its incomplete form
NOT_IN_AF = ("First degree AV block", "Sinus rhythm", "Sinus bradycardia", "Sinus tachycardia", "Sinus arrhythmia",
             "Premature atrial contraction")  # defined by P waves / a sinus rhythm: not made beside AF or AFL


def default_classifier() -> StatementClassifier | None:
    """The shipped classifier; None when its weights are absent."""
    try:
        return load_classifier()
    except FileNotFoundError:
        return None


def classifier_scores(findings: ECGFindings, signal: np.ndarray, classifier: StatementClassifier | None, *,
                      amplitudes_real: bool = True) -> dict[str, float]:
    """The classifier's confidence per statement; {} when it cannot read this ECG (not 12 known leads, < 3 beats,
    no weights)."""
    if classifier is None or not findings.lead_positions_known:
        return {}
    head = signal[:, : int(CLASSIFIER_MAX_S * findings.fs)]
    features = record_features(head, findings.fs, findings.leads, amplitudes_real=amplitudes_real)
    return {} if features is None else classifier.predict(features)


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def combined_confidence(name: str, criteria: float, learned: float,
                        weights: dict[str, list[float]] | None = None) -> float:
    """One confidence from both sides: the fitted logistic combination where `weights` has the statement, else the
    a-priori weighted mean."""
    if weights and name in weights:
        a, b, bias = weights[name]
        return 1.0 / (1.0 + math.exp(-(a * _logit(criteria) + b * _logit(learned) + bias)))
    w = CRITERIA_WEIGHT_FOR.get(name, CRITERIA_WEIGHT)
    return w * criteria + (1 - w) * learned


def combine(criteria: dict[str, Statement], learned: dict[str, float],
            weights: dict[str, list[float]] | None = None) -> dict[str, Statement]:
    """One statement per name that either side scores (any confidence)."""
    out: dict[str, Statement] = {}
    for name in dict.fromkeys([*criteria, *learned]):
        rule, p = criteria.get(name), learned.get(name)
        if rule is not None and p is not None:
            conf = combined_confidence(name, rule.confidence, p, weights)
            ev = rule.evidence
            reason = f"{ev.reason}; criteria {rule.confidence:.2f}, classifier {p:.2f}"
            out[name] = Statement(name, conf, "both", Evidence(ev.leads, ev.beats, ev.start_s, ev.end_s, reason))
        elif rule is not None:
            out[name] = rule
        else:
            out[name] = Statement(name, float(p), "classifier", Evidence(reason=f"12-lead classifier {p:.2f}"))
    return out


def score_statements(findings: ECGFindings, signal: np.ndarray, *, amplitudes_real: bool = True,
                     classifier: StatementClassifier | None = None) -> dict[str, Statement]:
    """Every statement either side can score, at any confidence (the checks rank these). `classifier`: the
    shipped one when None."""
    clf = classifier or default_classifier()
    rules = apply_criteria(findings, amplitudes_real=amplitudes_real)
    learned = classifier_scores(findings, signal, clf, amplitudes_real=amplitudes_real)
    return combine(rules, learned, clf.meta.get("combine") if clf else None)


def make_statements(findings: ECGFindings, signal: np.ndarray, *, amplitudes_real: bool = True,
                    classifier: StatementClassifier | None = None) -> tuple[Statement, ...]:
    """The statements to report for an ECG (`signal` [leads, samples] in mV, as read): confidence ≥ 0.5, most
    confident first."""
    scored = score_statements(findings, signal, amplitudes_real=amplitudes_real, classifier=classifier)
    kept = [s for s in scored.values() if s.confidence >= REPORT_CONFIDENCE]
    return tuple(sorted(kept, key=lambda s: -s.confidence))


def without_contradictions(findings: ECGFindings) -> ECGFindings:
    """The read without statements the rest of it rules out: a PR-based statement when no PR was measured; sinus
    rhythms, first degree AV block and PACs beside a stated atrial fibrillation (no P waves to measure, no sinus
    beat for a PAC to be premature to); a normal ECG beside any abnormal statement it keeps (`criteria.ABNORMAL`:
    the classifier can call an ECG normal that the criteria find a PVC or ST depression in); an incomplete bundle
    branch block beside the complete one; and then, on an ECG the classifier reads whole (≤ CLASSIFIER_MAX_S), the
    beats of an ectopic class whose statement is not made read as N: S beats beside AF, and a beat read as V where
    the 12-lead classifier outweighed it, so that the beat list and the statements say the same. Longer records keep
    their beat classes (S beats outside the AF episodes: `beat_classes.checked_classes`)."""
    atrial = [findings.statement(n) for n in ("Atrial fibrillation", "Atrial flutter")]
    drop = set(NOT_IN_AF) if any(s is not None and s.confidence >= REPORT_CONFIDENCE for s in atrial) else set()
    if findings.measurements.pr_ms is None:
        drop |= set(NEEDS_P_WAVES)
    statements = tuple(s for s in findings.statements if s.name not in drop)
    kept = {s.name for s in statements if s.confidence >= REPORT_CONFIDENCE}
    if kept & set(ABNORMAL):
        drop.add("Normal ECG")
    drop |= {INCOMPLETE[n] for n in kept & set(INCOMPLETE)}
    statements = tuple(s for s in statements if s.name not in drop)
    classes = findings.beat_classes
    if findings.duration_s <= CLASSIFIER_MAX_S:  # the statements speak for the whole ECG
        unconfirmed = {cls for name, cls in ECTOPY_CLASS.items() if name not in kept}  # S beside AF among them
        classes = tuple("N" if c in unconfirmed else c for c in classes)
    return replace(findings, statements=statements, beat_classes=classes)
