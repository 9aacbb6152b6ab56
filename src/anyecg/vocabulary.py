"""One vocabulary of ECG statements: every database's label codes mapped to the same English names.

`STATEMENTS` lists every name with its group and the PTB-XL diagnostic super-class it counts toward. The source
tables map onto those names:

- `SNOMED`: SNOMED-CT codes of '#Dx' (CinC 2020/2021, Chapman-Shaoxing): all 30 codes of the CinC 2021 scored
  set plus the common unscored ones; codes the Challenge scores as equivalent share a name.
- `SCP`: the 71 PTB-XL SCP-ECG statement codes (`scp_statements.csv`).
- `CPSC`: CPSC 2018 abbreviations (its first CinC 2020 release writes them in '#Dx').
- `MITBIH_RHYTHMS`: MIT-BIH rhythm notes ('(AFIB') on '+' annotations.
- `MITBIH_BEATS`: MIT-BIH beat symbols whose class is a statement ('V', 'A', 'L', ...).
- `ludb_names`: LUDB's free-text diagnoses ('Rhythm: Sinus bradycardia.', 'STEMI: septal.').

A code that maps to an empty tuple is known and says no statement (LUDB's 'Electric axis of the heart: normal.').
Names are sentence case, as reports print them.
"""

from __future__ import annotations

import re

# name: (group, PTB-XL super-class it counts toward or "")
STATEMENTS: dict[str, tuple[str, str]] = {
    "Normal ECG": ("normal", "NORM"),
    # rhythm
    "Sinus rhythm": ("rhythm", ""),
    "Sinus bradycardia": ("rhythm", ""),
    "Sinus tachycardia": ("rhythm", ""),
    "Sinus arrhythmia": ("rhythm", ""),
    "Bradycardia": ("rhythm", ""),
    "Atrial fibrillation": ("rhythm", ""),
    "Atrial flutter": ("rhythm", ""),
    "Atrial tachycardia": ("rhythm", ""),
    "Supraventricular tachycardia": ("rhythm", ""),
    "Supraventricular arrhythmia": ("rhythm", ""),
    "Ventricular tachycardia": ("rhythm", ""),
    "Ventricular flutter": ("rhythm", ""),
    "Junctional rhythm": ("rhythm", ""),
    "Idioventricular rhythm": ("rhythm", ""),
    "Wandering atrial pacemaker": ("rhythm", ""),
    "Pacing rhythm": ("rhythm", ""),
    # ectopy
    "Premature atrial contraction": ("ectopy", ""),
    "Premature ventricular contraction": ("ectopy", ""),
    "Premature complexes": ("ectopy", ""),
    "Blocked premature atrial contraction": ("ectopy", ""),
    "Atrial escape beat": ("ectopy", ""),
    "Atrial bigeminy": ("ectopy", ""),
    "Ventricular bigeminy": ("ectopy", ""),
    "Ventricular trigeminy": ("ectopy", ""),
    "Bigeminy": ("ectopy", ""),
    "Trigeminy": ("ectopy", ""),
    # conduction and intervals
    "First degree AV block": ("conduction", "CD"),
    "Second degree AV block": ("conduction", "CD"),
    "Complete heart block": ("conduction", "CD"),
    "AV block": ("conduction", "CD"),
    "Prolonged PR interval": ("conduction", "CD"),
    "Left bundle branch block": ("conduction", "CD"),
    "Right bundle branch block": ("conduction", "CD"),
    "Incomplete left bundle branch block": ("conduction", "CD"),
    "Incomplete right bundle branch block": ("conduction", "CD"),
    "Bundle branch block": ("conduction", "CD"),
    "Left anterior fascicular block": ("conduction", "CD"),
    "Left posterior fascicular block": ("conduction", "CD"),
    "Nonspecific intraventricular conduction disorder": ("conduction", "CD"),
    "Aberrant conduction": ("conduction", "CD"),
    "Wolff-Parkinson-White pattern": ("conduction", "CD"),
    "Prolonged QT interval": ("repolarization", "STTC"),
    # axis and voltage
    "Left axis deviation": ("axis", ""),
    "Right axis deviation": ("axis", ""),
    "Low QRS voltages": ("voltage", ""),
    "High QRS voltage": ("voltage", ""),
    "Abnormal QRS": ("morphology", ""),
    "Poor R wave progression": ("morphology", ""),
    # hypertrophy
    "Left ventricular hypertrophy": ("hypertrophy", "HYP"),
    "Left ventricular high voltage": ("hypertrophy", "HYP"),
    "Left ventricular overload": ("hypertrophy", "HYP"),
    "Right ventricular hypertrophy": ("hypertrophy", "HYP"),
    "Septal hypertrophy": ("hypertrophy", "HYP"),
    "Left atrial enlargement": ("hypertrophy", "HYP"),
    "Right atrial enlargement": ("hypertrophy", "HYP"),
    # ST-T
    "ST elevation": ("st-t", "STTC"),
    "ST depression": ("st-t", "STTC"),
    "ST changes": ("st-t", "STTC"),
    "Nonspecific ST-T abnormality": ("st-t", "STTC"),
    "T wave abnormality": ("st-t", "STTC"),
    "T wave inversion": ("st-t", "STTC"),
    "Low amplitude T waves": ("st-t", "STTC"),
    "Early repolarization": ("st-t", "STTC"),
    "Myocardial ischemia": ("st-t", "STTC"),
    "Anterior ischemia": ("st-t", "STTC"),
    "Inferior ischemia": ("st-t", "STTC"),
    "Lateral ischemia": ("st-t", "STTC"),
    "Posterior ischemia": ("st-t", "STTC"),
    "Digitalis effect": ("st-t", "STTC"),
    "Electrolyte disturbance or drug effect": ("st-t", "STTC"),
    "Ventricular aneurysm": ("st-t", "STTC"),
    # infarction
    "Myocardial infarction": ("infarction", "MI"),
    "Old myocardial infarction": ("infarction", "MI"),
    "Anterior myocardial infarction": ("infarction", "MI"),
    "Inferior myocardial infarction": ("infarction", "MI"),
    "Lateral myocardial infarction": ("infarction", "MI"),
    "Posterior myocardial infarction": ("infarction", "MI"),
    "Subendocardial injury": ("infarction", "MI"),
    "Q wave abnormal": ("infarction", "MI"),
}

# SNOMED-CT code: (name, CinC abbreviation, scored in CinC 2021)
SNOMED: dict[str, tuple[str, str, bool]] = {
    "164889003": ("Atrial fibrillation", "AF", True),
    "164890007": ("Atrial flutter", "AFL", True),
    "6374002": ("Bundle branch block", "BBB", True),
    "426627000": ("Bradycardia", "Brady", True),
    "733534002": ("Left bundle branch block", "CLBBB", True),
    "713427006": ("Right bundle branch block", "CRBBB", True),
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
    "427172004": ("Premature ventricular contraction", "PVC", True),
    "164947007": ("Prolonged PR interval", "LPR", True),
    "111975006": ("Prolonged QT interval", "LQT", True),
    "164917005": ("Q wave abnormal", "QAb", True),
    "47665007": ("Right axis deviation", "RAD", True),
    "59118001": ("Right bundle branch block", "RBBB", True),
    "427393009": ("Sinus arrhythmia", "SA", True),
    "426177001": ("Sinus bradycardia", "SB", True),
    "427084000": ("Sinus tachycardia", "STach", True),
    "63593006": ("Premature atrial contraction", "SVPB", True),
    "164934002": ("T wave abnormality", "TAb", True),
    "59931005": ("T wave inversion", "TInv", True),
    "17338001": ("Premature ventricular contraction", "VPB", True),
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
    "253352002": ("Left atrial enlargement", "LAA", False),
    "67741000119109": ("Left atrial enlargement", "LAE", False),
    "425623009": ("Lateral ischemia", "LIs", False),
    "445211001": ("Left posterior fascicular block", "LPFB", False),
    "164873001": ("Left ventricular hypertrophy", "LVH", False),
    "55827005": ("Left ventricular high voltage", "LVHV", False),
    "164865005": ("Myocardial infarction", "MI", False),
    "164861001": ("Myocardial ischemia", "MIs", False),
    "428750005": ("Nonspecific ST-T abnormality", "NSSTTA", False),
    "164867002": ("Old myocardial infarction", "OldMI", False),
    "446358003": ("Right atrial enlargement", "RAH", False),
    "89792004": ("Right ventricular hypertrophy", "RVH", False),
    "55930002": ("ST changes", "STC", False),
    "429622005": ("ST depression", "STD", False),
    "164931005": ("ST elevation", "STE", False),
    "164930006": ("ST changes", "STIAb", False),
    "426761007": ("Supraventricular tachycardia", "SVT", False),
    "11157007": ("Ventricular bigeminy", "VBig", False),
    "164884008": ("Premature ventricular contraction", "VEB", False),
    "164895002": ("Ventricular tachycardia", "VTach", False),
    "251180001": ("Ventricular trigeminy", "VTrig", False),
    "74390002": ("Wolff-Parkinson-White pattern", "WPW", False),
}

# PTB-XL SCP-ECG statement code → names (all 71 codes of scp_statements.csv)
SCP: dict[str, tuple[str, ...]] = {
    "NDT": ("T wave abnormality",), "NST_": ("Nonspecific ST-T abnormality",), "DIG": ("Digitalis effect",),
    "LNGQT": ("Prolonged QT interval",), "NORM": ("Normal ECG",), "IMI": ("Inferior myocardial infarction",),
    "ASMI": ("Anterior myocardial infarction",), "LVH": ("Left ventricular hypertrophy",),
    "LAFB": ("Left anterior fascicular block",), "ISC_": ("Myocardial ischemia",),
    "IRBBB": ("Incomplete right bundle branch block",), "1AVB": ("First degree AV block",),
    "IVCD": ("Nonspecific intraventricular conduction disorder",),
    "ISCAL": ("Anterior ischemia", "Lateral ischemia"), "CRBBB": ("Right bundle branch block",),
    "CLBBB": ("Left bundle branch block",),
    "ILMI": ("Inferior myocardial infarction", "Lateral myocardial infarction"),
    "LAO/LAE": ("Left atrial enlargement",), "AMI": ("Anterior myocardial infarction",),
    "ALMI": ("Anterior myocardial infarction", "Lateral myocardial infarction"),
    "ISCIN": ("Inferior ischemia",), "INJAS": ("Subendocardial injury",),
    "LMI": ("Lateral myocardial infarction",), "ISCIL": ("Inferior ischemia", "Lateral ischemia"),
    "LPFB": ("Left posterior fascicular block",), "ISCAS": ("Anterior ischemia",),
    "INJAL": ("Subendocardial injury",), "ISCLA": ("Lateral ischemia",), "RVH": ("Right ventricular hypertrophy",),
    "ANEUR": ("Ventricular aneurysm",), "RAO/RAE": ("Right atrial enlargement",),
    "EL": ("Electrolyte disturbance or drug effect",), "WPW": ("Wolff-Parkinson-White pattern",),
    "ILBBB": ("Incomplete left bundle branch block",),
    "IPLMI": ("Inferior myocardial infarction", "Posterior myocardial infarction", "Lateral myocardial infarction"),
    "ISCAN": ("Anterior ischemia",),
    "IPMI": ("Inferior myocardial infarction", "Posterior myocardial infarction"),
    "SEHYP": ("Septal hypertrophy",), "INJIN": ("Subendocardial injury",), "INJLA": ("Subendocardial injury",),
    "PMI": ("Posterior myocardial infarction",), "3AVB": ("Complete heart block",),
    "INJIL": ("Subendocardial injury",), "2AVB": ("Second degree AV block",), "ABQRS": ("Abnormal QRS",),
    "PVC": ("Premature ventricular contraction",), "STD_": ("ST depression",),
    "VCLVH": ("Left ventricular high voltage",), "QWAVE": ("Q wave abnormal",), "LOWT": ("Low amplitude T waves",),
    "NT_": ("T wave abnormality",), "PAC": ("Premature atrial contraction",), "LPR": ("Prolonged PR interval",),
    "INVT": ("T wave inversion",), "LVOLT": ("Low QRS voltages",), "HVOLT": ("High QRS voltage",),
    "TAB_": ("T wave abnormality",), "STE_": ("ST elevation",), "PRC(S)": ("Premature complexes",),
    "SR": ("Sinus rhythm",), "AFIB": ("Atrial fibrillation",), "STACH": ("Sinus tachycardia",),
    "SARRH": ("Sinus arrhythmia",), "SBRAD": ("Sinus bradycardia",), "PACE": ("Pacing rhythm",),
    "SVARR": ("Supraventricular arrhythmia",), "BIGU": ("Bigeminy",), "AFLT": ("Atrial flutter",),
    "SVTAC": ("Supraventricular tachycardia",), "PSVT": ("Supraventricular tachycardia",), "TRIGU": ("Trigeminy",),
}

# CPSC 2018 classes ('Normal' is the challenge's normal ECG, which is in sinus rhythm)
CPSC: dict[str, tuple[str, ...]] = {
    "Normal": ("Normal ECG", "Sinus rhythm"), "AF": ("Atrial fibrillation",), "I-AVB": ("First degree AV block",),
    "LBBB": ("Left bundle branch block",), "RBBB": ("Right bundle branch block",),
    "PAC": ("Premature atrial contraction",), "PVC": ("Premature ventricular contraction",),
    "STD": ("ST depression",), "STE": ("ST elevation",),
}

# MIT-BIH (and other PhysioNet) rhythm notes on '+' annotations
MITBIH_RHYTHMS: dict[str, str] = {
    "(AB": "Atrial bigeminy",
    "(AFIB": "Atrial fibrillation",
    "(AFL": "Atrial flutter",
    "(B": "Ventricular bigeminy",
    "(BI": "First degree AV block",
    "(BII": "Second degree AV block",
    "(BIII": "Complete heart block",
    "(IVR": "Idioventricular rhythm",
    "(N": "Sinus rhythm",
    "(NOD": "Junctional rhythm",
    "(P": "Pacing rhythm",
    "(PREX": "Wolff-Parkinson-White pattern",
    "(SBR": "Sinus bradycardia",
    "(SVTA": "Supraventricular tachycardia",
    "(T": "Ventricular trigeminy",
    "(VFL": "Ventricular flutter",
    "(VT": "Ventricular tachycardia",
}

# MIT-BIH beat symbols whose class is a statement (reports name them as the 12-lead databases do); the other
# classes (fusion, escape, junctional premature, unclassified) have no statement and keep their WFDB description
MITBIH_BEATS: dict[str, str] = {
    "V": "Premature ventricular contraction",
    "A": "Premature atrial contraction",
    "a": "Premature atrial contraction",  # aberrated APC
    "L": "Left bundle branch block",
    "R": "Right bundle branch block",
    "e": "Atrial escape beat",
}

# LUDB: region words of its 'X: <region> wall.' diagnoses → our four regions
_LUDB_REGIONS = {"anterior": "Anterior", "septal": "Anterior", "apical": "Anterior", "inferior": "Inferior",
                 "lateral": "Lateral", "posterior": "Posterior"}
_LUDB_REGIONAL = re.compile(r"^(ischemia|undefined ischemia/scar/supp\.nstemi|scar formation|stemi)\s*:\s*(\w+)")
_LUDB_RULES: tuple[tuple[re.Pattern, tuple[str, ...]], ...] = tuple((re.compile(p), names) for p, names in (
    (r"^rhythm: sinus rhythm", ("Sinus rhythm",)),
    (r"^rhythm: sinus bradycardia", ("Sinus bradycardia",)),
    (r"^rhythm: sinus tachycardia", ("Sinus tachycardia",)),
    (r"^rhythm: (sinus arrhythmia|irregular sinus rhythm)", ("Sinus arrhythmia",)),
    (r"^rhythm: atrial fibrillation", ("Atrial fibrillation",)),
    (r"^rhythm: atrial flutter", ("Atrial flutter",)),
    (r"^electric axis of the heart: left axis deviation", ("Left axis deviation",)),
    (r"^electric axis of the heart: right axis deviation", ("Right axis deviation",)),
    (r"^electric axis of the heart: (normal|vertical|horizontal)", ()),  # within normal limits: no statement
    (r"^left ventricular hypertrophy", ("Left ventricular hypertrophy",)),
    (r"^left ventricular overload", ("Left ventricular overload",)),
    (r"^right ventricular hypertrophy", ("Right ventricular hypertrophy",)),
    (r"^left atrial (hypertrophy|overload)", ("Left atrial enlargement",)),
    (r"^right atrial (hypertrophy|overload)", ("Right atrial enlargement",)),
    (r"^incomplete right bundle branch block", ("Incomplete right bundle branch block",)),
    (r"^incomplete left bundle branch block", ("Incomplete left bundle branch block",)),
    (r"^complete right bundle branch block", ("Right bundle branch block",)),
    (r"^complete left bundle branch block", ("Left bundle branch block",)),
    (r"^left anterior hemiblock", ("Left anterior fascicular block",)),
    (r"^i degree av block", ("First degree AV block",)),
    (r"^ii degree av", ("Second degree AV block",)),
    (r"^iii degree av", ("Complete heart block",)),
    (r"^non-specific intrav\w+ conduction delay", ("Nonspecific intraventricular conduction disorder",)),
    (r"^non-specific repolarization abnormalities", ("Nonspecific ST-T abnormality",)),
    (r"^early repolarization", ("Early repolarization",)),
    (r"^ventricular extrasystole", ("Premature ventricular contraction",)),
    (r"^atrial extrasystole", ("Premature atrial contraction",)),
    (r"^(unipolar|bipolar|biventricular) .*pacing|^biventricular pacing|^p-synchrony", ("Pacing rhythm",)),
    (r"^wandering atrial pacemaker", ("Wandering atrial pacemaker",)),
    (r"^aberrant conduction", ("Aberrant conduction",)),
))


def _ludb_regional(kind: str, region: str) -> tuple[str, ...]:
    where = _LUDB_REGIONS[region]
    if kind == "stemi":
        return ("ST elevation", f"{where} myocardial infarction")
    if kind == "scar formation":
        return (f"{where} myocardial infarction", "Old myocardial infarction")
    return (f"{where} ischemia",)


def ludb_names(text: str) -> tuple[str, ...] | None:
    """One LUDB diagnosis line ('Rhythm: Sinus bradycardia.', 'STEMI: septal.') → names; None when unknown."""
    t = text.strip().lstrip("#").strip().lower()
    regional = _LUDB_REGIONAL.match(t)
    if regional and regional.group(2) in _LUDB_REGIONS:
        return _ludb_regional(regional.group(1), regional.group(2))
    for pattern, names in _LUDB_RULES:
        if pattern.search(t):
            return names
    return None


def ludb_diagnoses(comments: list[str]) -> list[str]:
    """The diagnosis lines of a LUDB header's comments (those after '<diagnoses>:'; a line may hold several)."""
    start = next((i for i, c in enumerate(comments) if "<diagnoses>" in c), None)
    if start is None:
        return []
    return [part.strip() for c in comments[start + 1:] for part in c.split("#") if part.strip()]


# Rhythm families: a rhythm question is graded on the family (sinus bradycardia is a sinus rhythm).
RHYTHM_FAMILY: dict[str, str] = {
    "Sinus rhythm": "sinus", "Sinus bradycardia": "sinus", "Sinus tachycardia": "sinus", "Sinus arrhythmia": "sinus",
    "Atrial fibrillation": "af", "Atrial flutter": "flutter", "Pacing rhythm": "paced",
    "Junctional rhythm": "junctional", "Supraventricular tachycardia": "svt", "Atrial tachycardia": "svt",
    "Ventricular tachycardia": "vt", "Idioventricular rhythm": "idioventricular",
}
FAMILY_NAME = {"sinus": "Sinus rhythm", "af": "Atrial fibrillation", "flutter": "Atrial flutter",
               "paced": "Pacing rhythm", "junctional": "Junctional rhythm", "svt": "Supraventricular tachycardia",
               "vt": "Ventricular tachycardia", "idioventricular": "Idioventricular rhythm"}

CONDUCTION = ("Left bundle branch block", "Right bundle branch block", "First degree AV block")
ECTOPY = ("Premature ventricular contraction", "Premature atrial contraction")
COMPARABLE = ("Atrial fibrillation", *CONDUCTION, *ECTOPY)  # the findings a comparison of ECGs names


def lower(name: str) -> str:
    """A vocabulary name inside a sentence: the first letter in lower case ("first degree AV block")."""
    return name[:1].lower() + name[1:]


# A regional statement implies its general one (labels are completed with these before training and scoring).
PARENTS: dict[str, str] = {
    **{f"{r} myocardial infarction": "Myocardial infarction" for r in ("Anterior", "Inferior", "Lateral", "Posterior")},
    "Old myocardial infarction": "Myocardial infarction",
    **{f"{r} ischemia": "Myocardial ischemia" for r in ("Anterior", "Inferior", "Lateral", "Posterior")},
}


def with_parents(names: set[str] | frozenset[str]) -> frozenset[str]:
    """The names plus the general statements they imply."""
    return frozenset(names) | {PARENTS[n] for n in names if n in PARENTS}


def label_vocabulary(dataset: str) -> frozenset[str]:
    """The names a database's labels can take: its own table's (CPSC 2018 has 9 classes, so a finding outside them
    is neither right nor wrong on its ECGs; its class "Normal" counts as "Normal ECG", since "Sinus rhythm" alone
    does not tell it: its abnormal ECGs are labelled without their rhythm); every vocabulary name for a database
    without a closed table."""
    tables: dict[str, list[str]] = {
        "cpsc2018": [names[0] for names in CPSC.values()],
        "ptbxl": [n for names in SCP.values() for n in names],
        "mitdb": [*MITBIH_RHYTHMS.values(), *MITBIH_BEATS.values()],
        "cinc2021": [*(v[0] for v in SNOMED.values()), *(n for names in CPSC.values() for n in names)],
        "chapman": [v[0] for v in SNOMED.values()],
    }
    return with_parents(frozenset(tables.get(dataset, STATEMENTS)))


def in_vocabulary(names: set[str] | frozenset[str], vocabulary: frozenset[str]) -> frozenset[str]:
    """The names a database's labels could hold: a rhythm outside its table counts as its family's name when that
    one is in it ("Sinus tachycardia" is "Sinus rhythm" to CPSC 2018); other names outside it are left out."""
    out = set()
    for n in names:
        if n not in vocabulary and n in RHYTHM_FAMILY:
            n = FAMILY_NAME[RHYTHM_FAMILY[n]]
        if n in vocabulary:
            out.add(n)
    return frozenset(out)


def snomed_name(code: str) -> str | None:
    entry = SNOMED.get(code.strip())
    return entry[0] if entry else None


def dx_names(code: str) -> tuple[str, ...] | None:
    """A '#Dx' entry (SNOMED code or CPSC abbreviation) → its names; None when unknown."""
    code = code.strip()
    if code.isdigit():
        name = snomed_name(code)
        return (name,) if name else None
    return CPSC.get(code)


def scp_names(code: str) -> tuple[str, ...] | None:
    return SCP.get(code.strip())


def rhythm_name(note: str) -> str | None:
    """A MIT-BIH rhythm note ('(AFIB', 'AFIB') → its name; None when unknown."""
    note = note.strip().strip("\x00").upper()
    return MITBIH_RHYTHMS.get(note if note.startswith("(") else f"({note}")


def beat_name(symbol: str) -> str | None:
    """A MIT-BIH beat symbol ('V') → its statement name; None when its class is not a statement."""
    return MITBIH_BEATS.get(symbol)


def superclass_of(name: str) -> str:
    """The PTB-XL diagnostic super-class (NORM, MI, STTC, CD, HYP) a statement counts toward; '' for none."""
    return STATEMENTS[name][1]
