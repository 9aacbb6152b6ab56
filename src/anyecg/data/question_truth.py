"""Record truths for questions (`anyecg.data.questions.RecordTruth`) from the shared databases' labels and
annotations: CPSC2018 (Dx), PTB-XL (SCP codes, the `heart_axis` column), LUDB (diagnoses, the QRS annotations for
the heart rate; interval truth is passed in), MIT-BIH 10 s windows (beat and rhythm annotations). Used by the
held-out question set (`anyecg.eval.questions.build`) and the training questions (`anyecg.data.tasks.questions`).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from anyecg.data.questions import RecordTruth
from anyecg.data.schema import ECGRef
from anyecg.data.statement_corpus import (
    LUDB_KNOWN,
    cpsc_records,
    ludb_records,
    ptbxl_records,
    training_records,
)
from anyecg.findings.summary import ECTOPY_CLASS
from anyecg.io import read_record
from anyecg.signal.beats import SYMBOL_CLASS
from anyecg.signal.intervals import BEAT_SYMBOLS, beat_intervals
from anyecg.vocabulary import RHYTHM_FAMILY, rhythm_name

SHARED_DIRS = {"cpsc2018": "cpsc2018-a0001-a0150", "ptbxl": "ptbxl-500", "ludb": "ludb", "mitdb": "mitdb",
               "cinc2021": "cinc2021-sample", "chapman": "chapman-4"}
WINDOW_S = 10.0
EDGE_S = 0.25  # an ectopic beat this close to a window edge makes its count unsure: no count question
RR_REGULAR = 0.15  # sinus, all beats normal and every RR within 15 % of the median: a regular rhythm
# PTB-XL's `heart_axis`, in the AHA sense (left < -30°, right > 90°): its ALAD / ARAD are abnormal deviations, but
# its LAD / RAD are leftward / rightward axes that reach into the normal range (on folds 1-8 our QRS axis of LAD
# records runs from -118° to -4°, median -28°, and only 6 of 24 carry the SCP statement LAD; RAD's median is 89°),
# so LAD / RAD (and AXL, AXR, SAGG) say a side only with the SCP axis statement, and are not asked otherwise.
PTBXL_AXIS = {"MID": "normal", "ALAD": "left", "ARAD": "right"}
AXIS_STATEMENT = {"Left axis deviation": "left", "Right axis deviation": "right"}
LOCALIZE = ("V", "A")
BLOCK_CLASS = {"L": "Left bundle branch block", "R": "Right bundle branch block"}


def roots(shared: Path) -> dict[str, Path]:
    """The `SOURCE:REL` roots of the question ECG references under the shared data folder."""
    return {source: Path(shared) / folder for source, folder in SHARED_DIRS.items()}


def cpsc_truths(shared: Path, numbers: Iterable[int]) -> list[RecordTruth]:
    return [RecordTruth(f"cpsc2018:{r.path.name}", "cpsc2018", ECGRef(f"cpsc2018:{r.path.name}"), r.names, r.known)
            for r in cpsc_records(shared, range(min(numbers), max(numbers) + 1))]


def dx_truths(shared: Path, database: str) -> list[RecordTruth]:
    """The CinC 2021 sample or Chapman-4 records with their SNOMED Dx labels (every name known)."""
    return [RecordTruth(f"{database}:{r.path.name}", database, ECGRef(f"{database}:{r.path.name}"), r.names, r.known)
            for r in training_records(shared) if r.database == database]


def ptbxl_truths(shared: Path, folds: tuple[int, ...]) -> list[RecordTruth]:
    folder = shared / SHARED_DIRS["ptbxl"]
    with open(folder / "ptbxl_database.csv", newline="", encoding="utf-8") as f:
        heart_axis = {row["filename_hr"]: row["heart_axis"] for row in csv.DictReader(f)}
    out = []
    for r in ptbxl_records(shared, folds):
        rel = r.path.relative_to(folder).as_posix()
        out.append(RecordTruth(f"ptbxl:{r.path.name.split('_')[0]}", "ptbxl", ECGRef(f"ptbxl:{rel}"), r.names,
                               r.known, axis=ptbxl_axis(heart_axis.get(rel, ""), r.names)))
    return out


def ptbxl_axis(heart_axis: str, names) -> str | None:
    """'left' / 'right' / 'normal' in the AHA sense from PTB-XL's `heart_axis` and SCP statements; None when they
    do not say (see PTBXL_AXIS) or disagree."""
    sides = {AXIS_STATEMENT[n] for n in names if n in AXIS_STATEMENT}
    if len(sides) > 1:
        return None
    side = PTBXL_AXIS.get(heart_axis)
    if sides:
        stated = sides.pop()
        return stated if side in (None, stated) else None
    return side


def annotated_rate(peaks_s: np.ndarray) -> float | None:
    """Heart rate (bpm) from annotated beat times: 60 / mean RR, leaving out gaps (RR > 1.8 × median)."""
    rr = np.diff(np.sort(peaks_s))
    if len(rr) < 2:
        return None
    rr = rr[rr <= 1.8 * np.median(rr)]
    return 60.0 / float(np.mean(rr))


def ludb_truths(shared: Path, numbers: Iterable[int],
                intervals_of: Callable[[Path], dict[str, float]] | None = None) -> list[RecordTruth]:
    """LUDB records: diagnoses, the heart rate from the lead II QRS annotations, and `intervals_of(path)`
    ("pr" | "qrs" | "qt" → ms) when given."""
    out = []
    numbers = list(numbers)
    for r in ludb_records(shared, range(min(numbers), max(numbers) + 1)):
        intervals = intervals_of(r.path) if intervals_of else {}
        ann = read_record(r.path, annotations="ii")
        peaks = np.array([s for s, sym in zip(ann.beats.sample, ann.beats.symbol, strict=True) if sym == "N"])
        out.append(RecordTruth(f"ludb:{r.path.name}", "ludb", ECGRef(f"ludb:data/{r.path.name}"), r.names,
                               LUDB_KNOWN, heart_rate_bpm=annotated_rate(peaks / ann.fs), intervals_ms=intervals))
    return out


def window_starts(rec, rng: random.Random, sample: np.ndarray, classes: list[str]) -> list[float]:
    """3 random 10 s windows, one around a ventricular and one around a supraventricular ectopic beat, one
    inside atrial fibrillation (each when the record has one)."""
    last = rec.duration_s - WINDOW_S
    starts = [rng.uniform(0, last) for _ in range(3)]
    for cls in ("V", "S"):
        where = sample[[i for i, c in enumerate(classes) if c == cls]] / rec.fs
        if len(where):
            t = float(rng.choice(where))
            starts.append(min(max(0.0, t - rng.uniform(1.0, WINDOW_S - 1.0)), last))
    af = [e for e in rec.events if rhythm_name(e.label) == "Atrial fibrillation" and e.end_s - e.start_s > WINDOW_S]
    if af:
        e = rng.choice(af)
        starts.append(rng.uniform(e.start_s, e.end_s - WINDOW_S))
    return [round(s, 1) for s in starts]


def mitdb_window_truth(rec, name: str, start_s: float) -> RecordTruth:
    """What the annotations say about one 10 s window of a MIT-BIH record."""
    end_s = start_s + WINDOW_S
    sym = list(rec.beats.symbol)
    beats = [i for i, s in enumerate(sym) if s in BEAT_SYMBOLS]
    t_all = np.asarray(rec.beats.sample)[beats] / rec.fs
    inside = [(t, SYMBOL_CLASS.get(sym[i], "Q")) for i, t in zip(beats, t_all, strict=True) if start_s <= t < end_s]
    times = np.array([t for t, _ in inside])
    classes = [c for _, c in inside]
    covering = [e for e in rec.events if e.start_s < end_s and e.end_s > start_s]
    names = [rhythm_name(e.label) for e in covering]
    whole = names[0] if len(covering) == 1 and covering[0].start_s <= start_s and covering[0].end_s >= end_s \
        else None
    family = RHYTHM_FAMILY.get(whole) if whole else None
    af_partial = "Atrial fibrillation" in names and whole != "Atrial fibrillation"
    regular = None
    if family == "af" or any(c != "N" for c in classes):
        regular = False
    elif family == "sinus" and len(times) >= 3:
        rr = np.diff(times)
        regular = bool(np.all(np.abs(rr / np.median(rr) - 1) <= RR_REGULAR)) or None
    counts = {}
    for statement, cls in ECTOPY_CLASS.items():
        at = times[[i for i, c in enumerate(classes) if c == cls]]
        if not np.any((at - start_s < EDGE_S) | (end_s - at < EDGE_S)):
            counts[statement] = len(at)
    i0, i1 = round(start_s * rec.fs), round(end_s * rec.fs)
    loc = {k: beat_intervals(rec.beats.sample, sym, k, i0, i1, rec.fs) for k in LOCALIZE}
    names, known = set(), set() if af_partial else {"Atrial fibrillation"}
    if family == "af":
        names.add("Atrial fibrillation")
    for cls, block in BLOCK_CLASS.items():  # bundle branch block beats: a block when most beats are, none when none
        share = classes.count(cls) / len(classes) if classes else 0.0
        if share > 0.5 or share == 0.0:
            known.add(block)
            if share > 0.5:
                names.add(block)
    return RecordTruth(
        f"mitdb:{name}@{start_s:.1f}", "mitdb", ECGRef(f"mitdb:{name}", start_s, end_s),
        names=frozenset(names), known=frozenset(known), rhythm=family,
        heart_rate_bpm=annotated_rate(times) if len(times) >= 3 else None, regular=regular, beat_counts=counts,
        localization=loc)


def mitdb_truths(shared: Path, records: Iterable[str], seed: str) -> list[RecordTruth]:
    """Window truths of MIT-BIH records (`window_starts` per record, drawn with `seed`)."""
    out = []
    for name in sorted(records):
        rec = read_record(shared / SHARED_DIRS["mitdb"] / name)
        sym = list(rec.beats.symbol)
        beats = [i for i, s in enumerate(sym) if s in BEAT_SYMBOLS]
        sample = np.asarray(rec.beats.sample)[beats]
        classes = [SYMBOL_CLASS.get(sym[i], "Q") for i in beats]
        rng = random.Random(f"{seed}-mitdb-{name}")
        out += [mitdb_window_truth(rec, name, s) for s in window_starts(rec, rng, sample, classes)]
    return out


