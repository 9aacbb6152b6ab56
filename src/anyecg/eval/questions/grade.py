"""Grade free-text answers to the question set against its truth (`meta.truth`).

Tolerances: heart rate ±10 % of the annotated rate; PR / QRS / QT ±20 ms of the cardiologists' median; PVC / PAC
counts exact (windows with an ectopic beat within 0.25 s of an edge are not asked, so the count is unambiguous);
localization: IoU ≥ 0.5 with the annotated intervals (`anyecg.signal.intervals.interval_iou`), or both say none;
new / resolved findings: exactly the truth's names among the findings both ECGs' labels decide (`decidable`: a
claim about a finding one ECG's labels do not cover, such as a first degree AV block in a MIT-BIH window, is not
graded);
categories exact after the answer's words are mapped to the vocabulary by `anyecg.checks.mentions` (rhythm on its
family: sinus bradycardia is sinus; an answer naming a second rhythm family is wrong). Yes/no questions read a
leading yes/no, else whether the answer names the statement (negated or not). An answer the grader cannot read is
wrong.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from anyecg.checks import LOCALIZATION_IOU, mentions, stated_axes, stated_heart_rates, stated_intervals
from anyecg.data.questions import QTYPES
from anyecg.errors import AnswerFormatError
from anyecg.findings.summary import RATE_SAME
from anyecg.signal.intervals import interval_iou, parse_answer
from anyecg.vocabulary import COMPARABLE, RHYTHM_FAMILY

HR_TOLERANCE = 0.10
INTERVAL_TOLERANCE_MS = 20.0
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_WORD_NUMBERS = {w: i for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                               "nine", "ten", "eleven", "twelve"))}
_YES = re.compile(r"^\W*(yes|yeah|yep|correct|present|positive|there (?:is|are)(?! no\b))\b", re.IGNORECASE)
_NO = re.compile(r"^\W*(no|not|none|negative|absent|there (?:is|are) no)\b", re.IGNORECASE)
_LOCATION = re.compile(r"(Duration:\s*[\d.s\-,;\s]+|No\b.*?\bFound)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    read: str | None  # what the grader read from the answer; None when it could not read it
    score: float | None = None  # localization: the IoU


def yes_no(text: str, statement: str | None = None) -> bool | None:
    """A leading yes/no; else whether the text names `statement` without (True) or with (False) a negation."""
    if _YES.match(text):
        return True
    if _NO.match(text):
        return False
    for name, _, negated in mentions(text):
        if name == statement:
            return not negated
    return None


_NO_LONGER = re.compile(r"\bno longer\b", re.IGNORECASE)


def _claimed(text: str) -> set[str]:
    return {name for name, _, negated in mentions(text) if not negated}


def _first_number(text: str, lo: float, hi: float) -> float | None:
    return next((v for v in map(float, _NUMBER.findall(text)) if lo <= v <= hi), None)


def read_rate(text: str) -> float | None:
    rates = [v for v in stated_heart_rates(text) if 15 <= v <= 350]
    return rates[0] if rates else _first_number(text, 15, 350)


def read_interval(text: str, qtype: str) -> float | None:
    stated = [v for name, v in stated_intervals(text) if name == qtype.upper()]
    if stated:
        return stated[0]
    ms = re.search(r"(\d+(?:\.\d+)?)\s*(?:ms|msec|milliseconds)\b", text, re.IGNORECASE)
    if ms:
        return float(ms.group(1))
    sec = re.search(r"(0?\.\d+)\s*(?:s|sec|seconds)\b", text, re.IGNORECASE)
    if sec:
        return 1000.0 * float(sec.group(1))
    return _first_number(text, 20, 800)


def read_axis(text: str) -> str | None:
    claimed = _claimed(text)
    sides = [side for side, name in (("left", "Left axis deviation"), ("right", "Right axis deviation"))
             if name in claimed]
    if len(sides) == 1:
        return sides[0]
    degrees = stated_axes(text)
    if degrees:
        d = (degrees[0] + 180) % 360 - 180
        return "left" if d < -30 else "right" if d > 90 else "normal"
    if re.search(r"(?<!ab)normal", text, re.IGNORECASE) and not sides:
        return "normal"
    return None


def read_regular(text: str, polarity: str) -> bool | None:
    low = text.lower()
    if re.search(r"\bnot\s+irregular", low):
        return True
    if re.search(r"irregular|not regular|\barrhythmi", low):
        return False
    if re.search(r"\bregular", low):
        return True
    answer = yes_no(text)
    if answer is not None and polarity in ("regular", "irregular"):
        return answer if polarity == "regular" else not answer
    if "Atrial fibrillation" in _claimed(text):
        return False
    return None


def read_count(text: str) -> int | None:
    low = text.lower().strip()
    if re.match(r"^\W*(no|none|zero)\b", low) or re.search(r"\bno (premature|pvc|pac|ectopic)", low):
        return 0
    for token in re.findall(r"[a-z]+|\d+", low):
        if token.isdigit():
            return int(token)
        if token in _WORD_NUMBERS:
            return _WORD_NUMBERS[token]
    return None


def read_rate_change(text: str) -> str | None:
    low = text.lower()
    found = {word for word, pattern in (
        ("faster", r"\b(faster|higher|increas\w*|quicker|went up|gone up|rose)\b"),
        ("slower", r"\b(slower|lower|decreas\w*|went down|gone down|dropped|fell)\b"),
        ("same", r"\b(same|unchanged|similar|no change|stable|not changed|no significant change)\b"))
        if re.search(pattern, low)}
    if len(found) == 1:
        return found.pop()
    rates = [v for v in stated_heart_rates(text) if 15 <= v <= 350]
    if len(rates) >= 2:
        change = rates[1] / rates[0] - 1.0
        return "same" if abs(change) <= RATE_SAME else "faster" if change > 0 else "slower"
    return None


def _localization(text: str, truth: Sequence[Sequence[float]]) -> Verdict:
    match = _LOCATION.search(text)
    try:
        pred = parse_answer(match.group(1) if match else text)
    except AnswerFormatError:
        return Verdict(False, None)
    want = [(float(a), float(b)) for a, b in truth]
    if not want or not pred:
        return Verdict(not want and not pred, "none" if not pred else "intervals", None if not want else 0.0)
    iou = interval_iou(want, pred)
    return Verdict(iou >= LOCALIZATION_IOU, "intervals", iou)


def grade(meta: Mapping, answer: str) -> Verdict:
    """The verdict on one answer to a question with `meta` (`qtype`, `truth`)."""
    qtype, truth = meta["qtype"], meta["truth"]
    if qtype == "heart_rate":
        v = read_rate(answer)
        return Verdict(v is not None and abs(v - truth["bpm"]) <= HR_TOLERANCE * truth["bpm"],
                       None if v is None else f"{v:g} bpm")
    if qtype in ("pr", "qrs", "qt"):
        v = read_interval(answer, qtype)
        return Verdict(v is not None and abs(v - truth["ms"]) <= INTERVAL_TOLERANCE_MS,
                       None if v is None else f"{v:g} ms")
    if qtype == "rhythm":
        families = {RHYTHM_FAMILY[n] for n in _claimed(answer) if n in RHYTHM_FAMILY}
        return Verdict(families == {truth["rhythm"]}, ",".join(sorted(families)) or None)
    if qtype == "regularity":
        v = read_regular(answer, truth["polarity"])
        return Verdict(v == truth["regular"], None if v is None else ("regular" if v else "irregular"))
    if qtype in ("af", "conduction", "ectopy"):
        v = yes_no(answer, truth["statement"])
        return Verdict(v == truth["present"], None if v is None else ("yes" if v else "no"))
    if qtype == "axis":
        v = read_axis(answer)
        return Verdict(v == truth["axis"], v)
    if qtype == "ectopy_count":
        v = read_count(answer)
        return Verdict(v == truth["count"], None if v is None else str(v))
    if qtype == "localization":
        return _localization(answer, truth["intervals"])
    if qtype == "compare_rhythm":
        v = yes_no(answer)
        if v is None:
            low = answer.lower()
            v = True if re.search(r"\b(changed|different)\b", low) else \
                False if re.search(r"\b(unchanged|same|no change)\b", low) else None
        return Verdict(v == truth["changed"], None if v is None else ("changed" if v else "unchanged"))
    if qtype == "compare_rate":
        v = read_rate_change(answer)
        return Verdict(v == truth["change"], v)
    if qtype in ("compare_new", "compare_resolved"):
        # "No longer present: X." names X as resolved: its "no" is the change, not a negation of X
        claimed = _claimed(_NO_LONGER.sub("Resolved", answer)) & set(truth.get("decidable", COMPARABLE))
        return Verdict(claimed == set(truth["names"]), ", ".join(sorted(claimed)) or None)
    raise ValueError(f"unknown question type {qtype!r}")


def accuracy_table(metas: Sequence[Mapping], verdicts: Sequence[Verdict]) -> dict:
    """Per question type and overall: questions, correct share, unread share (the grader could not read)."""
    rows: dict[str, list[Verdict]] = defaultdict(list)
    for meta, v in zip(metas, verdicts, strict=True):
        rows[meta["qtype"]].append(v)

    def summary(vs: list[Verdict]) -> dict:
        n = len(vs)
        return {"n": n, "accuracy": sum(v.correct for v in vs) / n if n else math.nan,
                "unread": sum(v.read is None for v in vs) / n if n else math.nan}

    out = {q: summary(rows[q]) for q in QTYPES if rows.get(q)}
    every = [v for vs in rows.values() for v in vs]
    out["overall"] = summary(every)
    out["macro"] = {"n": len(rows), "accuracy": float(sum(out[q]["accuracy"] for q in rows) / len(rows))
                    if rows else math.nan, "unread": math.nan}
    return out
