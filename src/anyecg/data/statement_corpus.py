"""12-lead records with their statements (vocabulary names), split into the statement classifier's training
records and the held-out records its checks report on.

Training: PTB-XL strat_fold 1-8 of `ptbxl-500`, CPSC2018 A0001-A0100, the CinC 2021 sample, Chapman-4, LUDB 1-120.
Held out: CPSC2018 A0101-A0150 and PTB-XL strat_fold 9 (LUDB 121-160 is the delineation check's).
`known` is the set of names a database labels at all (CPSC labels only its 9 classes, so a CPSC record's
other names are unknown, not negative; PTB-XL gives the axis in a column, not as a statement; LUDB's "left axis
deviation" is not the AHA's axis < -30°); None means every name is known.
"""

from __future__ import annotations

import ast
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from anyecg.vocabulary import CPSC, SCP, STATEMENTS, dx_names, ludb_diagnoses, ludb_names, with_parents

CPSC_DIR, CINC_DIR, CHAPMAN_DIR = "cpsc2018-a0001-a0150", "cinc2021-sample", "chapman-4"
PTBXL_DIR, LUDB_DIR = "ptbxl-500", "ludb"
CPSC_TRAIN, CPSC_TEST = range(1, 101), range(101, 151)
LUDB_TRAIN = range(1, 121)
PTBXL_TRAIN_FOLDS, PTBXL_TEST_FOLD = range(1, 9), 9
CPSC_KNOWN = frozenset(n for names in CPSC.values() for n in names) - {"Sinus rhythm"}  # rhythm unlabelled but in Normal
AXIS = frozenset({"Left axis deviation", "Right axis deviation"})
PTBXL_KNOWN = frozenset(STATEMENTS) - AXIS  # PTB-XL gives the axis in a column, not as a statement
LUDB_KNOWN = frozenset(STATEMENTS) - AXIS  # LUDB's "left axis deviation" includes axes up to about +20°
NORMAL_ALONE = frozenset({"Sinus rhythm"})  # a CinC/LUDB record whose only statement is this is a normal ECG


@dataclass(frozen=True)
class LabelledRecord:
    path: Path  # WFDB record path without suffix
    database: str  # "ptbxl", "cpsc2018", "cinc2021", "chapman", "ludb"
    names: frozenset[str]
    known: frozenset[str] | None = None
    codes: tuple[str, ...] = ()  # the database's own codes (PTB-XL SCP codes, CPSC abbreviations)
    amplitudes_real: bool = True  # False for LUDB, whose stored gains normalise each lead

    @property
    def key(self) -> str:
        return f"{self.database}:{self.path.name}"


def _dx(path: Path) -> list[str]:
    for line in path.with_suffix(".hea").read_text().splitlines():
        body = line.lstrip("#").strip()
        if body.startswith("Dx"):
            return [c.strip() for c in body.split(":", 1)[1].split(",") if c.strip()]
    return []


def _dx_record(path: Path, database: str, known: frozenset[str] | None = None) -> LabelledRecord:
    codes = _dx(path)
    names = {n for c in codes for n in (dx_names(c) or ())}
    if database != "cpsc2018" and names and names <= NORMAL_ALONE:
        names.add("Normal ECG")
    return LabelledRecord(path, database, with_parents(names), known, tuple(codes))


def cpsc_records(root: Path, numbers: range) -> list[LabelledRecord]:
    folder = root / CPSC_DIR
    return [_dx_record(folder / f"A{i:04d}", "cpsc2018", CPSC_KNOWN) for i in numbers
            if (folder / f"A{i:04d}.hea").is_file()]


def _folder_dx_records(folder: Path, database: str) -> list[LabelledRecord]:
    return [_dx_record(h.with_suffix(""), database) for h in sorted(folder.glob("*.hea"))]


def ptbxl_records(root: Path, folds: range | tuple[int, ...]) -> list[LabelledRecord]:
    folder = root / PTBXL_DIR
    out = []
    with open(folder / "ptbxl_database.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if int(float(row["strat_fold"])) not in folds or not (folder / f"{row['filename_hr']}.hea").is_file():
                continue
            codes = tuple(ast.literal_eval(row["scp_codes"]))
            names = with_parents({n for c in codes for n in SCP.get(c, ())})
            out.append(LabelledRecord(folder / row["filename_hr"], "ptbxl", names, PTBXL_KNOWN, codes))
    return out


def ludb_records(root: Path, numbers: range) -> list[LabelledRecord]:
    folder = root / LUDB_DIR / "data"
    out = []
    for i in numbers:
        hea = folder / f"{i}.hea"
        if not hea.is_file():
            continue
        comments = [re.sub(r"^#\s*", "", line) for line in hea.read_text().splitlines() if line.startswith("#")]
        names = {n for line in ludb_diagnoses(comments) for n in (ludb_names(line) or ())}
        if names <= NORMAL_ALONE:
            names.add("Normal ECG")
        out.append(LabelledRecord(folder / str(i), "ludb", with_parents(names), LUDB_KNOWN,
                                  amplitudes_real=False))
    return out


def training_records(root: Path) -> list[LabelledRecord]:
    """Every training record of the statement classifier, under the shared data folder `root`."""
    return (ptbxl_records(root, PTBXL_TRAIN_FOLDS) + cpsc_records(root, CPSC_TRAIN)
            + _folder_dx_records(root / CINC_DIR, "cinc2021") + _folder_dx_records(root / CHAPMAN_DIR, "chapman")
            + ludb_records(root, LUDB_TRAIN))


def held_out_sets(root: Path) -> dict[str, list[LabelledRecord]]:
    """The held-out sets the statement checks report on."""
    return {"cpsc2018": cpsc_records(root, CPSC_TEST), "ptbxl": ptbxl_records(root, (PTBXL_TEST_FOLD,))}
