"""What a user can ask to locate: WFDB beat symbols, rhythm episodes, ST episodes, and everyday names for them."""

from __future__ import annotations

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
