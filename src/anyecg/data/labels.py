"""The aspect each label speaks to (rhythm, rate, conduction, ectopy, ST, morphology): drives the MultiECG change
questions. The label names themselves come from `anyecg.vocabulary`.
"""

from __future__ import annotations

import re

ASPECTS = ("rhythm", "rate", "conduction", "ectopy", "st", "morphology")
_ASPECT_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("ectopy", re.compile(r"premature|ectopic|extrasystol|bigeminy|trigeminy|escape|\bpvc|\bpac\b|\bvpb|"
                          r"\bsvpb|couplet", re.I)),
    ("rate", re.compile(r"tachycard|bradycard|heart rate|\brate\b", re.I)),
    ("rhythm", re.compile(r"rhythm|fibrillation|flutter|sinus|pac(ed|ing)|arrhythmia|junctional|nodal", re.I)),
    ("conduction", re.compile(r"block|conduction|\bav\b|a-v|pr interval|wolff|wpw|pre-?excitation|"
                              r"fascicular|qt interval|bbb", re.I)),
    ("st", re.compile(r"\bst\b|st-t|\bst[- ]|t wave|t-wave|ischemi|ischaemi|repolari[sz]ation|infarct|injury",
                      re.I)),
)


def aspects_of(label: str) -> tuple[str, ...]:
    """The aspects a label speaks to ('Sinus tachycardia' → rate and rhythm); ('morphology',) otherwise."""
    found = tuple(aspect for aspect, pattern in _ASPECT_RULES if pattern.search(label))
    return found or ("morphology",)
