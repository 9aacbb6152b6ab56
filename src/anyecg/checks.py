"""Checked answers: what an answer claims (heart rate, intervals, axis, rhythm and findings, localized segments)
compared with the machine read of the same ECG (`anyecg.findings.ECGFindings`).

A claim is checked only where the findings can decide it: a number against its measurement (within a tolerance),
a statement against the measurement that defines it (QRS width for a bundle branch block, PR for a first degree AV
block, RR irregularity and the AF statement for atrial fibrillation, ...), a localization answer against the
intervals the findings give for the same target. Each check says what was claimed, what was measured and whether
they agree; the checks never change an answer (`ECGChat.verified` may pick another of the model's answers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from anyecg.findings.locate import read_intervals
from anyecg.findings.summary import (
    AXIS_LIMITS,
    ECTOPY_CLASS,
    INTERVAL_FIELD,
    MIN_CONFIDENCE,
    RATE_CHANGED,
    RATE_SAME,
    axis_sentence,
    change_sentence,
    count_sentence,
    ectopic_count,
    has_finding,
    interval_sentence,
    is_irregular,
    listing_sentence,
    named_statements,
    rate_change_sentence,
    rate_sentence,
    regularity_sentence,
    rhythm_change_sentence,
    rhythm_family,
    rhythm_sentence,
)
from anyecg.findings.types import ECGFindings
from anyecg.signal.intervals import (
    AnswerFormatError,
    format_answer,
    interval_iou,
    parse_answer,
)
from anyecg.vocabulary import COMPARABLE, PARENTS, RHYTHM_FAMILY, STATEMENTS
from anyecg.vocabulary import lower as lower_name

HR_TOLERANCE = 0.10  # ±10 % (at least ±5 bpm)
INTERVAL_TOLERANCE_MS = 20.0  # ±20 ms (at least; 10 % for long intervals)
AXIS_TOLERANCE_DEG = 15.0
AXIS_MARGIN_DEG = 5.0  # an axis word (normal, left/right deviation) agrees within this of the AHA limits
LOCALIZATION_IOU = 0.5  # a localization answer agrees when its IoU with the findings' intervals reaches this


@dataclass(frozen=True)
class Check:
    """One claim of an answer against the findings."""

    kind: str  # "heart_rate" | "interval" | "axis" | "regularity" | "count" | "statement" | "localization" |
    # "comparison" (new, gone, no change) | "rate_change" | "omission" (a report leaves out what the read finds) |
    # "unanswered" (the answer does not say what the question asks)
    claim: str  # the answer's words
    stated: str  # what the answer says, normalised ("75 bpm", "Atrial fibrillation", "no Atrial fibrillation")
    measured: str  # what the findings say
    agrees: bool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        """One-line warning for a disagreement: `answer says X; measured Y`."""
        return f"answer says {self.stated}; the signal reads {self.measured}"


# ---- numbers ---------------------------------------------------------------------------------------------
_NUM = r"(\d{1,3}(?:\.\d+)?)"
_HR_RE = re.compile(
    rf"(?:heart\s*rate|ventricular\s*rate|\bhr|pulse|\brate)(?:\s|is|of|was|:|=|about|approximately|around|~)*{_NUM}"
    rf"|{_NUM}\s*(?:bpm|beats?\s*(?:per|/)\s*min(?:ute)?)", re.IGNORECASE)
_INTERVAL_RE = re.compile(rf"\b(PR|QRS|QTc|QT)\b(?:\s*(?:interval|duration|complex|is|of|was|=|:|about|approximately"
                          rf"|measures?|measured|around))*\s*{_NUM}\s*(?:ms|msec|milliseconds)\b", re.IGNORECASE)
_AXIS_RE = re.compile(r"axis\D{0,25}?(-?\s?\d{1,3})\s*(?:°|deg(?:rees?)?)", re.IGNORECASE)
_INTERVAL_FIELD = {"PR": "pr_ms", "QRS": "qrs_ms", "QT": "qt_ms", "QTC": "qtc_bazett_ms"}


def _within(stated: float, measured: float, abs_tol: float, rel_tol: float) -> bool:
    return abs(stated - measured) <= max(abs_tol, rel_tol * abs(measured))


def _number_checks(text: str, f: ECGFindings) -> list[Check]:
    m = f.measurements
    out: list[Check] = []
    for match in _HR_RE.finditer(text):
        value = float(match.group(1) or match.group(2))
        if m.heart_rate_bpm is None or not 15 <= value <= 350:
            continue
        out.append(Check("heart_rate", match.group(0).strip(), f"{value:g} bpm", f"{m.heart_rate_bpm:.0f} bpm",
                         _within(value, m.heart_rate_bpm, 5.0, HR_TOLERANCE)))
    for match in _INTERVAL_RE.finditer(text):
        name, value = match.group(1).upper(), float(match.group(2))
        measured = getattr(m, _INTERVAL_FIELD[name])
        if measured is None:
            continue
        label = "QTc" if name == "QTC" else name
        out.append(Check("interval", match.group(0).strip(), f"{label} {value:g} ms", f"{label} {measured:.0f} ms",
                         _within(value, measured, INTERVAL_TOLERANCE_MS, 0.10)))
    for match in _AXIS_RE.finditer(text):
        value = float(match.group(1).replace(" ", ""))
        if m.qrs_axis_deg is None:
            continue
        diff = abs((value - m.qrs_axis_deg + 180) % 360 - 180)
        out.append(Check("axis", match.group(0).strip(), f"QRS axis {value:g}°", f"QRS axis {m.qrs_axis_deg:.0f}°",
                         diff <= AXIS_TOLERANCE_DEG))
    return out


# ---- statements --------------------------------------------------------------------------------------------
# Everyday spellings of vocabulary names (matched as whole words, case-insensitively).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Atrial fibrillation": ("afib", "a-fib", "af"),
    "Atrial flutter": ("aflutter",),
    "Sinus rhythm": ("normal sinus rhythm", "nsr", "regular sinus rhythm", "sinus"),
    "Pacing rhythm": ("paced rhythm", "paced", "pacemaker rhythm", "ventricular pacing", "atrial pacing"),
    "Left bundle branch block": ("lbbb",),
    "Right bundle branch block": ("rbbb",),
    "First degree AV block": ("first-degree av block", "1st degree av block", "first degree atrioventricular block",
                              "first-degree atrioventricular block", "i-avb", "1st-degree av block"),
    "Premature ventricular contraction": ("premature ventricular contractions", "pvc", "pvcs",
                                          "ventricular premature beats", "ventricular ectopic beats"),
    "Premature atrial contraction": ("premature atrial contractions", "pac", "pacs", "atrial premature beats",
                                     "supraventricular premature beats"),
    "Left axis deviation": ("left axis",),
    "Right axis deviation": ("right axis",),
    "Prolonged QT interval": ("long qt", "prolonged qt", "long qtc", "prolonged qtc"),
    "Low QRS voltages": ("low voltage", "low qrs voltage"),
}
_NEGATION = re.compile(r"\b(no|not|without|absent|absence of|negative for|rules? out|free of)\b[^.;,]{0,30}$",
                       re.IGNORECASE)


def _negated(text: str, start: int) -> bool:
    """Whether a negation ("no", "not", "without", ...) stands in the 40 characters before `start`."""
    return bool(_NEGATION.search(text[max(0, start - 40):start]))


def _measured_rule(f: ECGFindings) -> dict[str, Callable[[], tuple[bool, str] | None]]:
    """name → () -> (present by the measurements, what was measured), or None when they cannot say."""
    m = f.measurements

    def has(name: str) -> bool:
        s = f.statement(name)
        return s is not None and s.confidence >= MIN_CONFIDENCE

    def af_share() -> float:
        return sum(e.duration_s for e in f.episodes_of("AF")) / f.duration_s if f.duration_s else 0.0

    def af() -> tuple[bool, str] | None:
        if m.rr_cv is None and not f.episodes:
            return None
        present = has_finding(f, "Atrial fibrillation")
        cv = f"RR CV {m.rr_cv:.2f}" if m.rr_cv is not None else "RR variability unknown"
        return present, (f"atrial fibrillation ({cv})" if present else f"no atrial fibrillation ({cv})")

    def sinus() -> tuple[bool, str] | None:
        other = has("Atrial fibrillation") or has("Atrial flutter") or af_share() >= 0.5
        if m.heart_rate_bpm is None:
            return None
        return (not other), ("sinus rhythm" if not other else "atrial fibrillation/flutter, not sinus rhythm")

    def threshold(value: float | None, what: str, unit: str, test: Callable[[float], bool]):
        def rule() -> tuple[bool, str] | None:
            if value is None:
                return None
            return test(value), f"{what} {value:.0f} {unit}"
        return rule

    def sinus_rate(test: Callable[[float], bool]):
        """Sinus brady/tachycardia: the rate and a sinus rhythm (AF at 146 bpm is no sinus tachycardia)."""
        def rule() -> tuple[bool, str] | None:
            rate, rhythm = threshold(m.heart_rate_bpm, "heart rate", "bpm", test)(), sinus()
            if rate is None or rhythm is None:
                return None
            return rate[0] and rhythm[0], rate[1] if rhythm[0] else f"{rhythm[1]}, {rate[1]}"
        return rule

    def flutter() -> tuple[bool, str] | None:
        s = f.statement("Atrial flutter")
        if s is None and m.flutter_wave_score is None:
            return None
        present = has("Atrial flutter")
        how = f"flutter waves at {m.flutter_rate_bpm:.0f}/min" if present and m.flutter_rate_bpm is not None \
            else "atrial flutter" if present else "no atrial flutter"
        return present, how

    def beats(cls: str, name: str):
        def rule() -> tuple[bool, str] | None:
            if not f.beat_classes:
                return None
            n = sum(c == cls for c in f.beat_classes)
            return n > 0, f"{n} {name} of {len(f.beat_classes)} beats"
        return rule

    def low_voltage() -> tuple[bool, str] | None:
        flags = [v for v in (m.low_voltage_limb, m.low_voltage_precordial) if v is not None]
        if not flags:
            return None
        return any(flags), "low QRS voltage" if any(flags) else "normal QRS voltage"

    hr, qrs = m.heart_rate_bpm, m.qrs_ms
    lo, hi = AXIS_LIMITS
    return {
        "Atrial fibrillation": af,
        "Sinus rhythm": sinus,
        "Atrial flutter": flutter,
        "Sinus bradycardia": sinus_rate(lambda v: v < 63),
        "Sinus tachycardia": sinus_rate(lambda v: v > 97),
        "Bradycardia": threshold(hr, "heart rate", "bpm", lambda v: v < 63),
        "First degree AV block": threshold(m.pr_ms, "PR", "ms", lambda v: v > 190),
        "Left bundle branch block": threshold(qrs, "QRS", "ms", lambda v: v >= 110),
        "Right bundle branch block": threshold(qrs, "QRS", "ms", lambda v: v >= 110),
        "Left axis deviation": threshold(m.qrs_axis_deg, "QRS axis", "°", lambda v: v < lo + AXIS_MARGIN_DEG),
        "Right axis deviation": threshold(m.qrs_axis_deg, "QRS axis", "°", lambda v: hi - AXIS_MARGIN_DEG < v <= 180),
        "Prolonged QT interval": threshold(m.qtc_bazett_ms, "QTc", "ms", lambda v: v > 440),
        "Premature ventricular contraction": beats("V", "ventricular ectopic"),
        "Premature atrial contraction": beats("S", "supraventricular ectopic"),
        "Low QRS voltages": low_voltage,
    }


def _mentions(text: str) -> list[tuple[str, str, bool]]:
    """(vocabulary name, the words, negated) for each statement the text names; longest spelling wins."""
    spellings = sorted(((s, n) for n in STATEMENTS for s in (n.lower(), *_SYNONYMS.get(n, ()))),
                       key=lambda x: -len(x[0]))
    taken: list[tuple[int, int]] = []
    found: dict[str, tuple[str, bool]] = {}
    low = text.lower()
    for spelling, name in spellings:
        for match in re.finditer(rf"(?<![\w-]){re.escape(spelling)}(?![\w-])", low):
            a, b = match.span()
            if any(a < y and x < b for x, y in taken):
                continue
            taken.append((a, b))
            negated = _negated(low, a)
            found.setdefault(name, (text[a:b], negated))
    return [(name, words, neg) for name, (words, neg) in found.items()]


def mentions(text: str) -> list[tuple[str, str, bool]]:
    """(vocabulary name, the words, negated) for each statement a text names (also the question set's grader)."""
    return _mentions(text)


def stated_heart_rates(text: str) -> list[float]:
    """The heart rates (bpm) a text states ("rate 72", "72 bpm")."""
    return [float(m.group(1) or m.group(2)) for m in _HR_RE.finditer(text)]


def stated_intervals(text: str) -> list[tuple[str, float]]:
    """The intervals a text states: ("PR" | "QRS" | "QT" | "QTC", ms)."""
    return [(m.group(1).upper(), float(m.group(2))) for m in _INTERVAL_RE.finditer(text)]


def stated_axes(text: str) -> list[float]:
    """The QRS axes (degrees) a text states ("axis -45°")."""
    return [float(m.group(1).replace(" ", "")) for m in _AXIS_RE.finditer(text)]


_REGULARITY_RE = re.compile(r"\b(?:rhythm|RR intervals?|heartbeat|heart beat|beats?)\s+(?:is|are|was|were|seems?|"
                            r"appears?|looks?)\s+(?:\w+\s+)?(irregular|regular)\b|\b(irregular|regular)\s+"
                            r"(?:rhythm|RR|heartbeat|heart beat|beats?)\b", re.IGNORECASE)
_NORMAL_AXIS_RE = re.compile(r"\bnormal\s+(?:QRS\s+|electrical\s+|frontal\s+|heart\s+)?axis\b", re.IGNORECASE)


_COUNT_WORDS = {"no": 0, "one": 1, "a single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10}
_COUNT_RE = re.compile(rf"\b(\d{{1,3}}|{'|'.join(_COUNT_WORDS)})\s+(?:\w+\s+)?(?:premature\s+(ventricular|atrial)\s+"
                       r"(?:contractions?|complexes|beats?)|(PVC|PAC)s?)\b", re.IGNORECASE)


def _count(n: int, name: str) -> str:
    return f"{n} {lower_name(name)}{'' if n == 1 else 's'}"


def _word_checks(text: str, f: ECGFindings) -> list[Check]:
    """Regularity ("the rhythm is irregular", "regular rhythm") against the read's rule
    (`anyecg.findings.summary.is_irregular`), "normal axis" against the measured QRS axis, and counts of ectopic
    beats ("2 premature ventricular contractions", "no PACs") against the read's beat classes."""
    m, out = f.measurements, []
    for match in _COUNT_RE.finditer(text):
        kind = (match.group(2) or {"PVC": "ventricular", "PAC": "atrial"}[match.group(3).upper()]).lower()
        name = f"Premature {kind} contraction"
        n = ectopic_count(f, name)
        if n is None:
            continue
        said = match.group(1).lower()
        stated = _COUNT_WORDS[said] if said in _COUNT_WORDS else int(said)
        out.append(Check("count", match.group(0), _count(stated, name), _count(n, name), stated == n))
    if m.rr_cv is not None:
        irregular = is_irregular(f)
        measured = f"{'irregular' if irregular else 'regular'} rhythm (RR CV {m.rr_cv:.2f})"
        for match in _REGULARITY_RE.finditer(text):
            word = (match.group(1) or match.group(2)).lower()
            negated = _negated(text, match.start()) or bool(re.search(r"\bnot\b", match.group(0), re.IGNORECASE))
            says_irregular = (word == "irregular") != negated
            out.append(Check("regularity", match.group(0), f"{'not ' if negated else ''}{word} rhythm", measured,
                             says_irregular == irregular))
    if m.qrs_axis_deg is not None:
        lo, hi = AXIS_LIMITS
        for match in _NORMAL_AXIS_RE.finditer(text):
            if _negated(text, match.start()):
                continue
            out.append(Check("axis", match.group(0), "normal axis", f"QRS axis {m.qrs_axis_deg:.0f}°",
                             lo - AXIS_MARGIN_DEG <= m.qrs_axis_deg <= hi + AXIS_MARGIN_DEG))
    return out


def _statement_checks(text: str, f: ECGFindings) -> list[Check]:
    rules = _measured_rule(f)
    out = []
    for name, words, negated in _mentions(text):
        rule = rules.get(name)
        result = rule() if rule else None
        if result is None:
            continue
        present, measured = result
        stated = f"no {name}" if negated else name
        out.append(Check("statement", words, stated, measured, present != negated))
    return out


def omission_checks(report: str, f: ECGFindings) -> list[Check]:
    """A report against the read: each statement a report written from the read names (`named_statements`: the
    rhythm, statements of at least MIN_CONFIDENCE, ectopic beats) is mentioned in it (itself, or a more specific
    statement under it), or the report leaves it out."""
    said = {name for name, _, negated in _mentions(report) if not negated}
    said |= {PARENTS[n] for n in said if n in PARENTS}
    return [Check("omission", lower_name(name), f"{lower_name(name)} {'named' if name in said else 'left out'}",
                  f"{lower_name(name)} (the read)", name in said) for name in named_statements(f)]


_LISTED = re.compile(r"\bECG (\d+):(.*?)(?=\bECG \d+:|$)", re.DOTALL)  # "ECG 1: A; B. ECG 2: C." → its parts


def listed_parts(answer: str) -> dict[int, str]:
    """What an answer that lists its ECGs says of each, by 0-based ECG index ({} for an answer that lists none)."""
    return {int(m.group(1)) - 1: m.group(2) for m in _LISTED.finditer(answer)}


def listing_omission_checks(answer: str, reads: Sequence[ECGFindings]) -> list[Check]:
    """An answer that lists its ECGs ("ECG 1: A; B. ECG 2: C.") against their reads: each ECG's part is held to
    `omission_checks` as a report of that ECG (an ECG the listing leaves out leaves out all its statements); an
    answer that lists none gives none."""
    parts = listed_parts(answer)
    if not parts:
        return []
    return [c for k, f in enumerate(reads) for c in _on(k, omission_checks(parts.get(k, ""), f))]


# ---- localization ------------------------------------------------------------------------------------------
def localization_check(answer: str, f: ECGFindings, target: str, description: str) -> Check | None:
    """A localization answer (`Duration: ...` / `No ... Found`) against the intervals the findings give for the
    target key (`read_intervals`: a beat symbol, an episode kind or a rhythm target); an answer not in that format
    disagrees."""
    truth = read_intervals(f, target)
    if truth is None:
        return None
    try:
        pred = parse_answer(answer)
    except AnswerFormatError:
        return Check("localization", answer.strip(), "no interval in the answer format",
                     format_answer(truth, description), False)
    agrees = (not truth and not pred) or (bool(truth) and bool(pred) and interval_iou(truth, pred) >= LOCALIZATION_IOU)
    return Check("localization", answer.strip(), format_answer(pred, description),
                 format_answer(truth, description), agrees)


_LEAD_WORD = re.compile(r"\s*(yes|no)\b", re.IGNORECASE)


def lead_word(answer: str) -> str | None:
    """"yes" or "no" when the answer begins with that word, else None."""
    m = _LEAD_WORD.match(answer)
    return m.group(1).lower() if m else None


def contradicts_itself(answer: str) -> bool:
    """A yes/no answer whose statements say the opposite of its first word: "No, atrial fibrillation.", "No, the
    ECG shows a PVC.", "Yes, no PVCs." ("No atrial fibrillation." and "Yes, a PVC." are consistent)."""
    lead = lead_word(answer)
    if lead is None:
        return False
    no = lead == "no"
    found = _mentions(answer)
    if no:  # "No atrial fibrillation.": the word negates the statement right after it
        return any(not negated for _, _, negated in found)
    return any(negated for _, _, negated in found)


def check_answer(answer: str, findings: ECGFindings) -> list[Check]:
    """Every claim of a free-text answer that the findings can decide (numbers, words, then statements)."""
    return _number_checks(answer, findings) + _word_checks(answer, findings) + _statement_checks(answer, findings)


# ---- comparisons of several ECGs --------------------------------------------------------------------------
_ORDINAL = ((re.compile(r"\b(?:first|1st|earlier|older)\b", re.IGNORECASE), 0),
            (re.compile(r"\b(?:second|2nd)\b", re.IGNORECASE), 1),
            (re.compile(r"\b(?:last|latest|later|newer|most recent)\b", re.IGNORECASE), -1))
_ECG_K = re.compile(r"\bECG\s*#?\s*(\d)\b", re.IGNORECASE)
_BOTH = re.compile(r"\b(?:both|all)\b(?:\s+(?:the\s+)?(?:ECGs|tracings|recordings))?", re.IGNORECASE)
_NEW = re.compile(r"\bnew\b|\bappear", re.IGNORECASE)
_GONE = re.compile(r"no longer|resolved|disappeared|has gone|gone in", re.IGNORECASE)
_RATE_WORD = re.compile(r"^\W*(faster|slower|about the same|the same|unchanged|rose|fell|increased|decreased)\b",
                        re.IGNORECASE)
_RATE_WORD_INSIDE = re.compile(r"\b(?:rate|bpm|pulse)\b[^.]*?\b(faster|slower)\b|\b(faster|slower)\b[^.]*?\b(?:rate|"
                               r"bpm|pulse)\b", re.IGNORECASE)
_NO_CHANGE = re.compile(r"\bno (?:new |other )?(?:findings?|abnormalit(?:y|ies)|changes?)\b|\bunchanged\b|\bnothing "
                        r"(?:new|changed)\b|\bno \w+ (?:changed|resolved|appeared)\b|\b(?:finding|findings|nothing) "
                        r"(?:has |have )?(?:changed|resolved|appeared)\b", re.IGNORECASE)
_NO_NEW = re.compile(r"\bnew\b|appeared", re.IGNORECASE)  # which way a "no change" claim looks
_NO_GONE = re.compile(r"resolved|no longer|gone", re.IGNORECASE)
_RATE_CHANGE = re.compile(r"(?:heart\s*)?rate\s+(rose|fell|increased|decreased|stayed|unchanged)", re.IGNORECASE)
_FASTER, _SLOWER = ("faster", "rose", "increased"), ("slower", "fell", "decreased")


def _which(clause: str, n: int) -> list[int] | None:
    """The ECGs (indices) a clause speaks of: "in the first ECG", "ECG 2:", "both ECGs"; None when it names none
    or several."""
    hits = {int(m.group(1)) - 1 for m in _ECG_K.finditer(clause) if 0 < int(m.group(1)) <= n}
    hits |= {k % n for rx, k in _ORDINAL if rx.search(clause)}
    if _BOTH.search(clause) and not hits:
        return list(range(n))
    return [hits.pop()] if len(hits) == 1 else None


def _on(k: int, checks: list[Check]) -> list[Check]:
    return [Check(c.kind, c.claim, f"ECG {k + 1}: {c.stated}", f"ECG {k + 1}: {c.measured}", c.agrees)
            for c in checks]


_ON_ECG = re.compile(r"ECG (\d+): ")  # how `_on` names the ECG a check is about


def checked_ecg(c: Check) -> int | None:
    """The ECG (1-based) a check of `check_comparison` is about when it names one ("ECG 2: ..."), else None."""
    m = _ON_ECG.match(c.stated)
    return int(m.group(1)) if m else None


def stated_name(c: Check) -> str:
    """The vocabulary name a statement check is about ("ECG 2: no Sinus rhythm" → "Sinus rhythm")."""
    m = _ON_ECG.match(c.stated)
    return c.stated[m.end() if m else 0:].removeprefix("no ")


def _change_checks(sentence: str, reads: Sequence[ECGFindings]) -> list[Check]:
    """"X is new in the second ECG" / "New in the last ECG: X" / "X is no longer present": X absent from the first
    ECG's read and present in the last one's (new), or the other way round (gone)."""
    new, gone = bool(_NEW.search(sentence)), bool(_GONE.search(sentence))
    if new == gone:
        return []
    first, last = _measured_rule(reads[0]), _measured_rule(reads[-1])
    out = []
    for name, words, _ in _mentions(sentence):
        a, b = (first[name](), last[name]()) if name in first else (None, None)
        if a is None or b is None:
            continue
        agrees = (not a[0] and b[0]) if new else (a[0] and not b[0])
        stated = f"{name} {'new in' if new else 'gone from'} the last ECG"
        out.append(Check("comparison", words, stated, f"first ECG: {a[1]}; last ECG: {b[1]}", agrees))
    return out


def _no_change_checks(sentence: str, reads: Sequence[ECGFindings]) -> list[Check]:
    """"No new finding", "Nothing resolved", "Sinus rhythm is unchanged", "No finding changed": the findings the
    sentence names (all that a comparison names, `COMPARABLE`, when it names none) are present or absent alike in
    the first and the last ECG's read (`has_finding`, what the read's own `change_sentence` says: a measurement
    that merely allows a finding, a QRS of 112 ms for a bundle branch block, is no finding); only new ones count
    against "no new finding", only resolved ones against "nothing resolved"."""
    m = _NO_CHANGE.search(sentence)
    if m is None:
        return []
    new, gone = bool(_NO_NEW.search(sentence)), bool(_NO_GONE.search(sentence))
    direction = None if new == gone else "new" if new else "gone"
    named = [name for name, _, _ in _mentions(sentence)]
    changed = []
    for name in named or COMPARABLE:
        a, b = has_finding(reads[0], name), has_finding(reads[-1], name)
        if a != b and direction in (None, "new" if b else "gone"):
            changed.append(f"{lower_name(name)} {'new in' if b else 'gone from'} the last ECG")
    stated = {"new": "nothing new in the last ECG", "gone": "nothing gone from the last ECG"}.get(direction,
                                                                                                  "no change")
    return [Check("comparison", m.group(0), stated + (f" in {', '.join(map(lower_name, named))}" if named else ""),
                  "; ".join(changed) or "no change", not changed)]


def _rate_change_check(text: str, reads: Sequence[ECGFindings]) -> list[Check]:
    """"Faster: ...", "About the same", "Heart rate rose from 72 to 95 bpm", "the rate is slower in the second"
    against the two reads' rates."""
    m = _RATE_WORD.search(text) or _RATE_CHANGE.search(text) or _RATE_WORD_INSIDE.search(text)
    a, b = reads[0].measurements.heart_rate_bpm, reads[-1].measurements.heart_rate_bpm
    if m is None or not a or not b:
        return []
    word, change = next(g for g in m.groups() if g).lower(), b / a - 1.0
    if word in _FASTER:
        agrees, stated = change > RATE_SAME, "faster"
    elif word in _SLOWER:
        agrees, stated = change < -RATE_SAME, "slower"
    else:
        agrees, stated = abs(change) < RATE_CHANGED, "about the same"
    return [Check("rate_change", m.group(0).strip(), f"heart rate {stated} in the last ECG",
                  f"{a:.0f} bpm in the first ECG, {b:.0f} bpm in the last", agrees)]


def check_comparison(answer: str, reads: Sequence[ECGFindings]) -> list[Check]:
    """Every claim of an answer about several ECGs that their reads can decide: a rate change; what is new in the
    last ECG or gone from it; and each clause that names its ECG ("atrial fibrillation in the first ECG", "ECG 2:
    sinus rhythm; PVC.", "both ECGs show sinus rhythm") checked as `check_answer` checks it against that ECG's read.
    Rates stated in a rate-change sentence ("rose from 72 to 95 bpm") are checked against the first and last."""
    n = len(reads)
    out = _rate_change_check(answer, reads)
    for sentence in re.split(r"(?<=\.)\s+", answer.strip()):
        if (m := _RATE_CHANGE.search(sentence)) is not None:  # "Heart rate unchanged at 72 bpm." is about the rate
            rates = [float(x) for x in re.findall(r"\b(\d{2,3})\b", sentence[m.end():])][:2]
            for k, value in zip((0, n - 1), rates, strict=False):
                out += _on(k, _number_checks(f"{value:g} bpm", reads[k]))
            continue
        if _NO_CHANGE.search(sentence):
            out += _no_change_checks(sentence, reads)
            continue
        if _NEW.search(sentence) or _GONE.search(sentence):
            out += _change_checks(sentence, reads)
            continue
        head = _ECG_K.match(sentence.strip())
        clauses = [sentence] if head else re.split(r"[,;]\s*", sentence)
        for clause in clauses:
            for k in _which(clause if not head else head.group(0), n) or ():
                out += _on(k, check_answer(clause, reads[k]))
    return out


# ---- does the answer answer the question? -----------------------------------------------------------------
_ASKED_ONE = (  # what a question about one ECG asks for, and the check kind an answer to it makes
    (re.compile(r"\bhow many\b|\bcount\b|\bnumber of\b", re.IGNORECASE), "count"),
    (re.compile(r"\baxis\b", re.IGNORECASE), "axis"),
    (re.compile(r"\b(PR|QRS|QTc?)\b(?! axis)", re.IGNORECASE), "interval"),
    (re.compile(r"\b(?:heart|ventricular) rate\b|\bhow fast\b|\bbpm\b", re.IGNORECASE), "heart_rate"),
    (re.compile(r"\b(?:ir)?regular\b", re.IGNORECASE), "regularity"),
    (re.compile(r"\b(?:what|which|describe|identify|name)\b.*\brhythm\b", re.IGNORECASE), "rhythm"),
)
_ASKED_SEVERAL = (  # the same for a question about several ECGs (the first that matches)
    (re.compile(r"\beach (?:ecg|one|tracing|recording)\b|\bsummari[sz]e\b|\bover time\b|\bkey findings\b|"
                r"\bfindings of (?:each|both|all|the two)\b", re.IGNORECASE), "listing"),
    (re.compile(r"\bresolved\b|\bno longer\b|\bgone\b(?!\s+(?:up|down))|\bdisappeared\b", re.IGNORECASE), "gone"),
    (re.compile(r"\bnew\b|\bappeared\b|\bdoes not\b", re.IGNORECASE), "new"),
    (re.compile(r"\brate\b|\bfaster\b|\bslower\b", re.IGNORECASE), "rate_change"),
    (re.compile(r"\brhythm\b", re.IGNORECASE), "rhythm_change"),
)
_RHYTHM_WORD = re.compile(r"\brhythms?\b", re.IGNORECASE)
_Answered = Callable[[str, list[Check]], bool]  # whether an answer (its text, its checks) answers an ask


def _kind(kind: str) -> _Answered:
    return lambda text, checks: any(c.kind == kind for c in checks)


def _names_rhythm(text: str, checks: list[Check]) -> bool:
    return any(name in RHYTHM_FAMILY for name, _, negated in _mentions(text) if not negated)


def _answers_rhythm_change(text: str, checks: list[Check]) -> bool:
    """Whether an answer speaks of the rhythm: it names one, or compares and says "rhythm" ("No, the rhythm is
    unchanged."); "First degree AV block is new in the second ECG." does not."""
    return _names_rhythm(text, checks) or (bool(_RHYTHM_WORD.search(text)) and _kind("comparison")(text, checks))


def _asked_several(question: str, reads: Sequence[ECGFindings]) -> list[tuple[_Answered, str]]:
    ask = next((kind for rx, kind in _ASKED_SEVERAL if rx.search(question)), None)
    if ask == "listing":  # "Summarize each ECG": every ECG's findings, listed
        return [(lambda text, checks: listed_parts(text).keys() >= set(range(len(reads))),
                 listing_sentence(reads, len(reads)))]
    if ask in ("new", "gone"):
        way = "new in" if ask == "new" else "gone from"

        def answered(text: str, checks: list[Check]) -> bool:
            return any(c.kind == "comparison" and (way in c.stated or c.stated == "no change"
                                                   or c.stated.startswith(f"nothing {way.split()[0]}"))
                       for c in checks)
        return [(answered, change_sentence(reads, ask == "new"))]
    if ask == "rate_change" and reads[0].measurements.heart_rate_bpm and reads[-1].measurements.heart_rate_bpm:
        return [(_kind("rate_change"), rate_change_sentence(reads))]
    if ask == "rhythm_change":  # a leading "Yes" / "No" says whether it changed: it must be the read's
        changed = "yes" if rhythm_family(reads[0]) != rhythm_family(reads[-1]) else "no"
        return [(lambda text, checks: _answers_rhythm_change(text, checks) and lead_word(text) in (None, changed),
                 rhythm_change_sentence(reads))]
    return []


def _asked_one(question: str, f: ECGFindings) -> list[tuple[_Answered, str]]:
    m, out = f.measurements, []
    kinds = {kind: match for rx, kind in _ASKED_ONE if (match := rx.search(question))}
    if "regularity" in kinds:  # "What is the rhythm, regular or not?" asks regularity
        kinds.pop("rhythm", None)
    for kind, match in kinds.items():
        sentence = None
        if kind == "count":
            names = [n for n, _, _ in _mentions(question) if n in ECTOPY_CLASS]
            if len(names) == 1 and ectopic_count(f, names[0]) is not None:
                sentence = count_sentence(f, names[0])
        elif kind == "axis" and m.qrs_axis_deg is not None:
            sentence = axis_sentence(f)
        elif kind == "interval" and "axis" not in kinds:
            label, field = INTERVAL_FIELD.get(match.group(1).lower(), (None, None))
            if field and getattr(m, field) is not None:
                sentence = interval_sentence(f, label, field)
        elif kind == "heart_rate" and m.heart_rate_bpm:
            sentence = rate_sentence(f)
        elif kind == "regularity" and m.rr_cv is not None:
            sentence = regularity_sentence(f)
        elif kind == "rhythm" and f.n_beats:
            sentence = rhythm_sentence(f)
        if sentence is not None:
            out.append((_names_rhythm if kind == "rhythm" else _kind(kind), sentence))
    return out


def unanswered_check(answer: str, checks: list[Check], question: str,
                     reads: Sequence[ECGFindings]) -> Check | None:
    """A disagreeing check when the question asks for something the read can answer (a count, the axis, an
    interval, the rate, regularity, the rhythm; for several ECGs each ECG's findings listed, what is new or
    resolved, the rate change, the rhythm change) and the answer (its text and `checks`) leaves it unsaid: "Yes,
    premature atrial contraction." to "How many PACs?". `measured` is the read's own answer to everything the
    question asks."""
    if not reads or not question:
        return None
    asked = _asked_several(question, reads) if len(reads) > 1 else _asked_one(question, reads[0])
    if not asked or all(answered(answer, checks) for answered, _ in asked):
        return None
    return Check("unanswered", "", "no answer to what was asked", " ".join(sentence for _, sentence in asked), False)


def disagreements(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.agrees]
