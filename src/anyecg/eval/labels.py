"""Label sets of the zero-shot classification protocol: class codes and the texts that get embedded.

PTB-XL super/sub class texts are the official code's lists (digest §5); PTB-XL form and rhythm texts are
the SCP statement descriptions of `scp_statements.csv` (the official lists are exactly those, same order).
CPSC2018 and Chapman-Shaoxing (CSN) class names are the official lists, kept verbatim (typos included)
so that embeddings match the paper's.
"""

from __future__ import annotations

import ast
import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from anyecg.errors import ConfigError


@dataclass(frozen=True)
class LabelSet:
    """Classes of one benchmark: `codes[i]` is scored by embedding `texts[i]`."""

    name: str
    codes: tuple[str, ...]
    texts: tuple[str, ...]


PTBXL_SUPER = LabelSet(
    "ptbxl_super", ("CD", "HYP", "MI", "STTC", "NORM"),
    ("conduction disturbance", "hypertrophy", "myocardial infarction", "ST/T change", "normal ECG"))

PTBXL_SUB = LabelSet(
    "ptbxl_sub",
    ("ISCI", "CRBBB", "RAO/RAE", "CLBBB", "LVH", "NST_", "IRBBB", "LAFB/LPFB", "ISCA", "WPW", "RVH", "NORM",
     "IMI", "AMI", "ILBBB", "STTC", "PMI", "_AVB", "LMI", "SEHYP", "IVCD", "ISC_", "LAO/LAE"),
    ("ischemic in inferior leads", "complete right bundle branch block", "right atrial overload/enlargement",
     "complete left bundle branch block", "left ventricular hypertrophy", "non-specific ST changes",
     "incomplete right bundle branch block", "left anterior/posterior fascicular block",
     "ischemic in anterior leads", "Wolf-Parkinson-White syndrome", "right ventricular hypertrophy", "normal ECG",
     "inferior myocardial infarction", "anterior myocardial infarction", "incomplete left bundle branch block",
     "ST/T change", "posterior myocardial infarction", "AV block", "lateral myocardial infarction",
     "septal hypertrophy", "non-specific intraventricular conduction disturbance (block)", "non-specific ischemic",
     "left atrial overload/enlargement"))

CPSC2018 = LabelSet(
    "cpsc2018", ("Normal", "AF", "I-AVB", "LBBB", "RBBB", "PAC", "PVC", "STD", "STE"),
    ("Normal", "Atrial fibrillation", "First-degree atrioventricular block", "Left bundle branch block",
     "Right bundle branch block", "Premature atrial contraction", "Premature ventricular contraction",
     "ST-segment depression", "ST-segment elevated"))

_CSN_NAMES = (
    "Sinus Bradycardia", "Sinus Rhythm", "Atrial Flutter", "Sinus Tachycardia", "T wave Change", "T wave opposite",
    "Sinus Irregularity", "Atrial Fibrillation", "ST drop down", "Axis left shift", "atrial\xa0premature\xa0beats",
    "ST-T Change", "1 degree atrioventricular block", "abnormal Q wave", "lower voltage QRS in all lead",
    "Axis right shift", "ST extension", "Interior differences conduction", "Supraventricular Tachycardia",
    "right bundle branch block", "left ventricle hypertrophy", "QT interval extension",
    "Early repolarization of the ventricles", "Atrial Tachycardia", "ventricular premature beat",
    "atrioventricular block", "left bundle branch block", "ST tilt up", "countercolockwise rotation",
    "P wave Change", "U wave", "myocardial infarction", "ventricular fusion wave", "right ventricle hypertrophy",
    "colockwise rotation", "3 degree atrioventricular block", "junctional escape beat", "WPW",
    "2 degree atrioventricular block", "ventricular escape beat", "PR interval extension",
    "right atrial hypertrophy", "2 degree atrioventricular block(Type one)",
    "Atrioventricular Reentrant Tachycardia", "ventricular preexcitation", "junctional premature beat",
    "ventricular escape trigeminy", "atrial bigeminy", "fQRS Wave", "ventricular bigeminy",
    "Wandering in the atrioventricalualr node")
CSN = LabelSet("csn", _CSN_NAMES, _CSN_NAMES)

PTBXL_SETS = ("ptbxl_super", "ptbxl_sub", "ptbxl_form", "ptbxl_rhythm")
ALL_SETS = (*PTBXL_SETS, "cpsc2018", "csn")


def _scp_rows(scp_csv: Path) -> list[dict]:
    if not scp_csv.is_file():
        raise ConfigError("SCP statement table not found (PTB-XL scp_statements.csv)", scp_csv)
    with open(scp_csv, newline="") as fh:
        return list(csv.DictReader(fh))


def load_label_set(name: str, scp_csv: Path | None = None) -> LabelSet:
    """The label set called `name` (one of `ALL_SETS`); PTB-XL form/rhythm need `scp_statements.csv`."""
    fixed = {s.name: s for s in (PTBXL_SUPER, PTBXL_SUB, CPSC2018, CSN)}
    if name in fixed:
        return fixed[name]
    if name in ("ptbxl_form", "ptbxl_rhythm"):
        if scp_csv is None:
            raise ConfigError(f"label set {name} needs --scp-statements (PTB-XL scp_statements.csv)")
        column = name.split("_")[1]
        rows = [r for r in _scp_rows(scp_csv) if r[column] == "1.0"]
        return LabelSet(name, tuple(r[""] for r in rows), tuple(r["description"] for r in rows))
    raise ConfigError(f"unknown label set {name!r}; choose from {', '.join(ALL_SETS)}")


def ptbxl_positive_codes(scp_codes: dict | str, label_set: LabelSet, scp_csv: Path) -> set[str]:
    """Codes of `label_set` present in a PTB-XL record's `scp_codes` (any likelihood, as PTB-XL's benchmark)."""
    codes = ast.literal_eval(scp_codes) if isinstance(scp_codes, str) else scp_codes
    table = {r[""]: r for r in _scp_rows(scp_csv)}
    found = set()
    for code in codes:
        row = table.get(code)
        if row is None:
            continue
        if label_set.name == "ptbxl_super":
            found.add(row["diagnostic_class"])
        elif label_set.name == "ptbxl_sub":
            found.add(row["diagnostic_subclass"])
        else:
            found.add(code)
    return found & set(label_set.codes)


def positive_codes(values: Iterable[str], label_set: LabelSet) -> set[str]:
    """Codes of `label_set` named by `values` (codes or texts, case-insensitive; CPSC 'AF,RBBB' split on ',')."""
    lookup = {c.lower(): c for c in label_set.codes}
    lookup.update({t.lower(): c for c, t in zip(label_set.codes, label_set.texts, strict=True)})
    found = set()
    for value in values:
        for part in str(value).split(","):
            code = lookup.get(part.strip().lower())
            if code is not None:
                found.add(code)
    return found
