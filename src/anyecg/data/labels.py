"""Diagnosis labels: SNOMED-CT and CPSC abbreviation tables, and the aspect each label speaks to.

The SNOMED table holds every code of the PhysioNet/CinC Challenge 2021 scored set (30 codes, 26 classes after the
Challenge's equivalences) plus the unscored codes that are common in its data. Names are written the way our
reports print them (sentence case). Aspects (rhythm, rate, conduction, ectopy, ST, morphology) drive the
MultiECG change questions.
"""

from __future__ import annotations

import re

# code: (name, abbreviation, scored in CinC 2021)
SNOMED: dict[str, tuple[str, str, bool]] = {
    "164889003": ("Atrial fibrillation", "AF", True),
    "164890007": ("Atrial flutter", "AFL", True),
    "6374002": ("Bundle branch block", "BBB", True),
    "426627000": ("Bradycardia", "Brady", True),
    "733534002": ("Complete left bundle branch block", "CLBBB", True),
    "713427006": ("Complete right bundle branch block", "CRBBB", True),
    "270492004": ("First degree AV block", "IAVB", True),
    "713426002": ("Incomplete right bundle branch block", "IRBBB", True),
    "39732003": ("Left axis deviation", "LAD", True),
    "445118002": ("Left anterior fascicular block", "LAnFB", True),
    "164909002": ("Left bundle branch block", "LBBB", True),
    "251146004": ("Low QRS voltages", "LQRSV", True),
    "698252002": ("Nonspecific intraventricular conduction disorder", "NSIVCB", True),
    "426783006": ("Sinus rhythm", "NSR", True),
    "284470004": ("Premature atrial contraction", "PAC", True),
    "10370003": ("Pacing rhythm", "PR", True),
    "365413008": ("Poor R wave progression", "PRWP", True),
    "427172004": ("Premature ventricular contractions", "PVC", True),
    "164947007": ("Prolonged PR interval", "LPR", True),
    "111975006": ("Prolonged QT interval", "LQT", True),
    "164917005": ("Q wave abnormal", "QAb", True),
    "47665007": ("Right axis deviation", "RAD", True),
    "59118001": ("Right bundle branch block", "RBBB", True),
    "427393009": ("Sinus arrhythmia", "SA", True),
    "426177001": ("Sinus bradycardia", "SB", True),
    "427084000": ("Sinus tachycardia", "STach", True),
    "63593006": ("Supraventricular premature beats", "SVPB", True),
    "164934002": ("T wave abnormal", "TAb", True),
    "59931005": ("T wave inversion", "TInv", True),
    "17338001": ("Ventricular premature beats", "VPB", True),
    # unscored, frequent
    "164951009": ("Abnormal QRS", "abQRS", False),
    "251187003": ("Atrial escape beat", "AED", False),
    "426434006": ("Anterior ischemia", "AnMIs", False),
    "54329005": ("Anterior myocardial infarction", "AnMI", False),
    "713422000": ("Atrial tachycardia", "ATach", False),
    "233917008": ("AV block", "AVB", False),
    "251170000": ("Blocked premature atrial contraction", "BPAC", False),
    "27885002": ("Complete heart block", "CHB", False),
    "195042002": ("Second degree AV block", "IIAVB", False),
    "425419005": ("Inferior ischemia", "IIs", False),
    "251120003": ("Incomplete left bundle branch block", "ILBBB", False),
    "253352002": ("Left atrial abnormality", "LAA", False),
    "67741000119109": ("Left atrial enlargement", "LAE", False),
    "425623009": ("Lateral ischemia", "LIs", False),
    "445211001": ("Left posterior fascicular block", "LPFB", False),
    "164873001": ("Left ventricular hypertrophy", "LVH", False),
    "55827005": ("Left ventricular high voltage", "LVHV", False),
    "164865005": ("Myocardial infarction", "MI", False),
    "164861001": ("Myocardial ischemia", "MIs", False),
    "428750005": ("Nonspecific ST-T abnormality", "NSSTTA", False),
    "164867002": ("Old myocardial infarction", "OldMI", False),
    "446358003": ("Right atrial hypertrophy", "RAH", False),
    "89792004": ("Right ventricular hypertrophy", "RVH", False),
    "55930002": ("ST changes", "STC", False),
    "429622005": ("ST depression", "STD", False),
    "164931005": ("ST elevation", "STE", False),
    "164930006": ("ST interval abnormal", "STIAb", False),
    "426761007": ("Supraventricular tachycardia", "SVT", False),
    "11157007": ("Ventricular bigeminy", "VBig", False),
    "164884008": ("Ventricular ectopics", "VEB", False),
    "164895002": ("Ventricular tachycardia", "VTach", False),
    "251180001": ("Ventricular trigeminy", "VTrig", False),
    "74390002": ("Wolff-Parkinson-White pattern", "WPW", False),
}

# CPSC 2018 (and the first CinC 2020 release) write abbreviations in '#Dx'.
CPSC_ABBREVIATIONS: dict[str, str] = {
    "Normal": "Sinus rhythm", "AF": "Atrial fibrillation", "I-AVB": "First degree AV block",
    "LBBB": "Left bundle branch block", "RBBB": "Right bundle branch block",
    "PAC": "Premature atrial contraction", "PVC": "Premature ventricular contractions",
    "STD": "ST depression", "STE": "ST elevation",
}

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


def snomed_name(code: str) -> str | None:
    entry = SNOMED.get(code.strip())
    return entry[0] if entry else None


def dx_label(code: str) -> str | None:
    """A '#Dx' entry (SNOMED code or CPSC abbreviation) → its label name; None when unknown."""
    code = code.strip()
    if code.isdigit():
        return snomed_name(code)
    return CPSC_ABBREVIATIONS.get(code)


def aspects_of(label: str) -> tuple[str, ...]:
    """The aspects a label speaks to ('Sinus tachycardia' → rate and rhythm); ('morphology',) otherwise."""
    found = tuple(aspect for aspect, pattern in _ASPECT_RULES if pattern.search(label))
    return found or ("morphology",)
