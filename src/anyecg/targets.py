"""What a user can ask to locate: WFDB beat symbols, rhythm episodes, ST episodes, and everyday names for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from anyecg.errors import AnyECGError
from anyecg.signal.intervals import BEAT_SYMBOLS, RHYTHM_DESCRIPTIONS, describe

# Everyday names → WFDB symbol or rhythm label.
ALIASES: dict[str, str] = {
    "pvc": "V", "pvcs": "V", "vpc": "V", "ventricular ectopic": "V", "premature ventricular contraction": "V",
    "premature ventricular contractions": "V",
    "pac": "A", "pacs": "A", "apc": "A", "atrial premature beat": "A", "atrial premature beats": "A",
    "lbbb": "L", "left bundle branch block": "L", "rbbb": "R", "right bundle branch block": "R",
    "svpb": "S", "sves": "S", "supraventricular ectopic": "S",
    "fusion": "F", "af": "(AFIB", "afib": "(AFIB", "atrial fibrillation": "(AFIB", "aflutter": "(AFL",
    "afl": "(AFL", "vt": "(VT", "ventricular tachycardia": "(VT", "svt": "(SVTA", "bigeminy": "(B",
    "trigeminy": "(T", "pause": "(PAUSE", "pauses": "(PAUSE", "sinus bradycardia": "(SBR", "sinus rhythm": "(N",
}

# The paper's beat types (MIT-BIH Arrhythmia); this order fixes the evaluation windows and the U-Net's classes.
PAPER_BEAT_TYPES = ("A", "V", "L", "R")
# Scanned and located by default: the paper's beat types, PVCs first.
DEFAULT_SCAN = ("V", *(t for t in PAPER_BEAT_TYPES if t != "V"))
# `scan` engines, the default first: the machine read alone, or the LLM per window (`anyecg.scan`).
SCAN_ENGINES = ("findings", "llm")
SCAN_SCREENS = ("auto", "agree", "findings", "head")  # which (window, beat type) questions reach the LLM (`scan`)

# Rhythm targets the findings read but no WFDB rhythm label names (answered from `anyecg.findings.locate`).
FINDINGS_RHYTHMS = {"(PAUSE": "Pause"}


@dataclass(frozen=True)
class Target:
    key: str  # 'V', '(AFIB', '(ST0+'
    description: str  # the words the model was trained on: 'Premature ventricular contraction'
    kind: str  # 'beat' | 'rhythm' | 'st'


def resolve_target(what: str) -> Target:
    """'V', 'PVC', 'premature ventricular contraction', 'AFIB', '(AFIB' → Target; unknown → AnyECGError."""
    raw = what.strip()
    key = ALIASES.get(raw.lower(), raw)
    if key in BEAT_SYMBOLS:
        return Target(key, describe(key), "beat")
    rhythm = key if key.startswith("(") else f"({key}"
    if rhythm.upper() in RHYTHM_DESCRIPTIONS | FINDINGS_RHYTHMS:
        return Target(rhythm.upper(), (RHYTHM_DESCRIPTIONS | FINDINGS_RHYTHMS)[rhythm.upper()], "rhythm")
    for symbol in BEAT_SYMBOLS:
        if describe(symbol).lower() == raw.lower():
            return Target(symbol, describe(symbol), "beat")
    try:
        return Target(key, describe(key), "st")
    except KeyError:
        pass
    known = ", ".join(sorted({*ALIASES, *BEAT_SYMBOLS}))
    raise AnyECGError(f"cannot locate {what!r}: not a known beat type, rhythm or ST episode; try one of {known}")


# A question asks to localize when it asks where/when something is (not whether, how many or what).
_LOCATE_WORDS = re.compile(r"\b(locate|localize|localise|where|when|which\s+(?:seconds|times?|segments?|part)|"
                           r"mark|highlight|find\s+the|time\s+of|timing\s+of|segments?\s+(?:with|of))\b",
                           re.IGNORECASE)


def question_target(question: str) -> Target | None:
    """The target of a localization question in free text ("Locate the premature ventricular contractions.",
    "Where are the PVCs?", "When does atrial fibrillation occur?"), or None for any other question. Every front
    end routes such a question through `ECGChat.locate_prepared`, so it gets the same answer whatever the door."""
    if not _LOCATE_WORDS.search(question):
        return None
    low = question.lower()
    names = {**{describe(s).lower(): s for s in BEAT_SYMBOLS}, **{v.lower(): k for k, v in RHYTHM_DESCRIPTIONS.items()},
             **ALIASES}
    for name in sorted(names, key=len, reverse=True):  # the longest name that the question contains
        plural = name if name.endswith("s") else f"{name}s"
        if re.search(rf"(?<![\w-])(?:{re.escape(name)}|{re.escape(plural)})(?![\w-])", low):
            return resolve_target(names[name])
    return None
