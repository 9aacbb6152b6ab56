"""Questions with answers derived from labels and annotations: heart rate, rhythm, regularity, AF yes/no, PR / QRS /
QT, axis, conduction blocks, PVC/PAC presence and counts, localization (the paper's format) and comparisons of two
ECGs (rhythm, rate, a new or a resolved finding).

A `RecordTruth` holds what a record's labels and annotations say (vocabulary names with the set the database labels
at all, and where annotations exist: beat counts, heart rate, intervals, localization answers). `single_questions`
and `pair_questions` turn truths into samples (task `chat`, `meta.qtype`, `meta.truth`); a question whose truth the
labels cannot give is not asked. The held-out question set (`anyecg.eval.questions`) and training data share them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from anyecg.data.schema import ECGRef, Sample, qa
from anyecg.data.templates import LOCALIZATION, QUESTIONS
from anyecg.findings.summary import RATE_CHANGED, RATE_SAME  # between the two: no rate question asked
from anyecg.signal.intervals import Interval, describe, format_answer
from anyecg.vocabulary import COMPARABLE, CONDUCTION, ECTOPY, FAMILY_NAME, RHYTHM_FAMILY, lower

QTYPES = ("heart_rate", "rhythm", "regularity", "af", "pr", "qrs", "qt", "axis", "conduction", "ectopy",
          "ectopy_count", "localization", "compare_rhythm", "compare_rate", "compare_new", "compare_resolved")
INTERVAL_TYPES = {"pr": "PR interval", "qrs": "QRS duration", "qt": "QT interval"}

# A label that makes "absent" unsure for a name (an incomplete block is not "no block").
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "Left bundle branch block": ("Incomplete left bundle branch block", "Bundle branch block"),
    "Right bundle branch block": ("Incomplete right bundle branch block", "Bundle branch block"),
    "First degree AV block": ("Prolonged PR interval", "AV block"),
    "Premature ventricular contraction": ("Premature complexes", "Bigeminy", "Trigeminy", "Ventricular bigeminy",
                                          "Ventricular trigeminy"),
    "Premature atrial contraction": ("Premature complexes", "Bigeminy", "Trigeminy", "Atrial bigeminy",
                                     "Blocked premature atrial contraction"),
    "Atrial fibrillation": ("Atrial flutter", "Supraventricular arrhythmia"),
}
IRREGULAR = ("Sinus arrhythmia", "Premature ventricular contraction", "Premature atrial contraction",
             "Premature complexes", "Bigeminy", "Trigeminy", "Ventricular bigeminy", "Ventricular trigeminy",
             "Atrial bigeminy", "Second degree AV block", "Supraventricular arrhythmia")
AXES = ("normal", "left", "right")
AXIS_ANSWER = {"normal": "Normal axis.", "left": "Left axis deviation.", "right": "Right axis deviation."}


@dataclass(frozen=True)
class RecordTruth:
    """What one ECG's labels and annotations say. `known`: the names the database labels at all (None: every
    name); `beat_counts`: annotated ectopic beats per ECTOPY name (None: no beat annotations), a name missing
    from it when the count is unsure (a beat at the window's edge)."""

    key: str  # "cpsc2018:A0101", "mitdb:100@120.0"
    dataset: str
    ref: ECGRef
    names: frozenset[str] = frozenset()
    known: frozenset[str] | None = None
    rhythm: str | None = None  # the rhythm family from annotations (overrides the names)
    heart_rate_bpm: float | None = None
    intervals_ms: dict[str, float] = field(default_factory=dict)  # "pr" | "qrs" | "qt" → ms
    axis: str | None = None  # "normal" | "left" | "right"
    regular: bool | None = None  # from annotations (overrides the names)
    beat_counts: dict[str, int] | None = None
    localization: dict[str, list[Interval]] = field(default_factory=dict)  # WFDB symbol → intervals


def presence(t: RecordTruth, name: str) -> bool | None:
    """Whether the labels say the statement is present (True), absent (False) or cannot say (None)."""
    if t.beat_counts is not None and name in ECTOPY:
        return t.beat_counts[name] > 0 if name in t.beat_counts else None
    if name == "Atrial fibrillation" and t.rhythm is not None:
        return t.rhythm == "af"
    if name in t.names:
        return True
    if (t.known is not None and name not in t.known) or any(a in t.names for a in AMBIGUOUS.get(name, ())):
        return None
    return False


def rhythm_family(t: RecordTruth) -> str | None:
    """The one rhythm family the labels name; None when they name none or several."""
    if t.rhythm is not None:
        return t.rhythm
    families = {RHYTHM_FAMILY[n] for n in t.names if n in RHYTHM_FAMILY}
    return families.pop() if len(families) == 1 else None


def is_regular(t: RecordTruth) -> bool | None:
    if t.regular is not None:
        return t.regular
    family = rhythm_family(t)
    if family == "af" or any(n in t.names for n in IRREGULAR):
        return False
    ectopy_known = t.known is None or all(n in t.known for n in ECTOPY)
    return True if family == "sinus" and ectopy_known else None


def _rhythm_answer(t: RecordTruth, family: str) -> str:
    if family == "sinus":
        specific = sorted(n for n in t.names if RHYTHM_FAMILY.get(n) == "sinus" and n != "Sinus rhythm")
        return (specific[0] if specific else "Sinus rhythm") + "."
    return FAMILY_NAME[family] + "."


def yes_no_answer(present: bool, name: str) -> str:
    """The reference answer to "is there <name>?": "Yes, <name>." or "No <name>."."""
    return f"Yes, {lower(name)}." if present else f"No {lower(name)}."


def _sample(t: Sequence[RecordTruth], qtype: str, suffix: str, question: str, answer: str, truth: dict,
            split: str, template: int) -> Sample:
    sid = f"q-{t[0].dataset}-{'+'.join(x.key.split(':', 1)[1] for x in t)}-{qtype}{suffix}"
    meta = {"qtype": qtype, "truth": truth, "records": [x.key for x in t], "template": template}
    return Sample(sid, "chat", t[0].dataset, split, tuple(x.ref for x in t), qa(question, answer, len(t)), meta)


def _pick(rng: random.Random, qtype: str) -> tuple[int, str]:
    i = rng.randrange(len(QUESTIONS[qtype]))
    return i, QUESTIONS[qtype][i]


def single_questions(t: RecordTruth, split: str, seed: str = "v1") -> list[Sample]:
    """Every question type the truth can answer for one ECG (one phrasing each, drawn per record and type)."""
    out: list[Sample] = []

    def rng(qtype: str) -> random.Random:
        return random.Random(f"{seed}-{t.key}-{qtype}")

    def add(qtype: str, answer: str, truth: dict, suffix: str = "", fill: dict | None = None,
            templates: tuple[str, ...] | None = None) -> None:
        r = rng(qtype + suffix)
        options = templates or QUESTIONS[qtype]
        i = r.randrange(len(options))
        out.append(_sample([t], qtype, suffix, options[i].format(**(fill or {})), answer, truth, split, i))

    if t.heart_rate_bpm is not None:
        add("heart_rate", f"The heart rate is {t.heart_rate_bpm:.0f} bpm.", {"bpm": round(t.heart_rate_bpm, 1)})
    family = rhythm_family(t)
    if family is not None:
        add("rhythm", _rhythm_answer(t, family), {"rhythm": family})
    regular = is_regular(t)
    if regular is not None:
        i, question = _pick(rng("regularity"), "regularity")
        polarity = {0: "regular", 1: "irregular", 2: "regular"}.get(i, "either")
        word = "regular" if regular else "irregular"
        yes = {"regular": regular, "irregular": not regular}.get(polarity)
        answer = f"The rhythm is {word}." if yes is None else f"{'Yes' if yes else 'No'}, the rhythm is {word}."
        out.append(_sample([t], "regularity", "", question, answer, {"regular": regular, "polarity": polarity},
                           split, i))
    af = presence(t, "Atrial fibrillation")
    if af is not None:
        add("af", yes_no_answer(af, "Atrial fibrillation"), {"present": af, "statement": "Atrial fibrillation"})
    for qtype, ms in sorted(t.intervals_ms.items()):
        add(qtype, f"The {INTERVAL_TYPES[qtype]} is {ms:.0f} ms.", {"ms": round(ms, 1)})
    if t.axis is not None:
        add("axis", AXIS_ANSWER[t.axis], {"axis": t.axis})
    for qtype, names in (("conduction", CONDUCTION), ("ectopy", ECTOPY)):
        answerable = {n: p for n in names if (p := presence(t, n)) is not None}
        if answerable:
            positives = [n for n, p in answerable.items() if p]
            r = rng(qtype + "-name")
            name = r.choice(positives) if positives else r.choice(sorted(answerable))
            add(qtype, yes_no_answer(answerable[name], name), {"present": answerable[name], "statement": name},
                fill={"X": lower(name)})
    for name, n in sorted((t.beat_counts or {}).items()):
        short = "PVC" if name.startswith("Premature ventricular") else "PAC"
        answer = f"{n} {lower(name)}{'s' if n != 1 else ''}." if n else f"No {lower(name)}s."
        add("ectopy_count", answer, {"count": n, "statement": name}, suffix=f"-{short}", fill={"X": lower(name)})
    for symbol, intervals in sorted(t.localization.items()):
        desc = describe(symbol)
        add("localization", format_answer(intervals, desc),
            {"abnormal_type": symbol, "intervals": [list(iv) for iv in intervals]}, suffix=f"-{symbol}",
            fill={"X": desc}, templates=LOCALIZATION)
    return out


def _comparable(t: RecordTruth) -> dict[str, bool]:
    out = {n: p for n in COMPARABLE if (p := presence(t, n)) is not None}
    return out


def pair_questions(a: RecordTruth, b: RecordTruth, split: str, seed: str = "v1") -> list[Sample]:
    """The comparison questions two ECGs' truths can answer (first ECG `a`, second `b`)."""
    out: list[Sample] = []
    pair = (a, b)
    key = f"{seed}-{a.key}-{b.key}"

    def add(qtype: str, answer: str, truth: dict) -> None:
        i, question = _pick(random.Random(f"{key}-{qtype}"), qtype)
        out.append(_sample(pair, qtype, "", question, answer, truth, split, i))

    fa, fb = rhythm_family(a), rhythm_family(b)
    if fa is not None and fb is not None:
        if fa == fb:
            answer = f"No, both ECGs show {lower(FAMILY_NAME[fa])}."
        else:
            answer = f"Yes: {lower(FAMILY_NAME[fa])} in the first ECG, {lower(FAMILY_NAME[fb])} in the second."
        add("compare_rhythm", answer, {"changed": fa != fb, "first": fa, "second": fb})
    if a.heart_rate_bpm and b.heart_rate_bpm:
        ratio = b.heart_rate_bpm / a.heart_rate_bpm - 1.0
        change = "same" if abs(ratio) <= RATE_SAME else ("faster" if ratio >= RATE_CHANGED else
                                                         "slower" if ratio <= -RATE_CHANGED else None)
        if change is not None:
            rates = f"{a.heart_rate_bpm:.0f} bpm in the first ECG, {b.heart_rate_bpm:.0f} bpm in the second"
            word = {"same": "About the same", "faster": "Faster", "slower": "Slower"}[change]
            add("compare_rate", f"{word}: {rates}.", {"change": change, "first_bpm": round(a.heart_rate_bpm, 1),
                                                      "second_bpm": round(b.heart_rate_bpm, 1)})
    ca, cb = _comparable(a), _comparable(b)
    both = sorted(set(ca) & set(cb))
    new = [n for n in both if cb[n] and not ca[n]]
    gone = [n for n in both if ca[n] and not cb[n]]
    if len(new) == 1 and not gone:
        add("compare_new", f"{new[0]} is new in the second ECG.", {"names": new, "decidable": both})
    if len(gone) == 1 and not new:
        add("compare_resolved", f"{gone[0]} is no longer present in the second ECG.",
            {"names": gone, "decidable": both})
    return out
