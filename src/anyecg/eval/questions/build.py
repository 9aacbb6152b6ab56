"""Build the held-out question set from labels and annotations only (never from our own measurements).

Records: CPSC2018 A0101-A0150 (Dx labels), PTB-XL strat_fold 9 (SCP codes, the `heart_axis` column), LUDB 121-160
(diagnoses; heart rate and PR / QRS / QT from the cardiologists' delineation: per beat the median across annotated
leads, then the median over beats), MIT-BIH DS2 10 s windows (beat and rhythm annotations). Per dataset and question
type at most `CAP` questions, drawn deterministically; comparisons pair ECGs of one dataset.

    python -m anyecg.eval.questions.build --shared-data ../shared/data   # rewrites questions_v1.jsonl
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
from collections import defaultdict
from pathlib import Path

import numpy as np

from anyecg.data.questions import RHYTHM_FAMILY, RecordTruth, pair_questions, single_questions
from anyecg.data.schema import ECGRef, Sample, write_jsonl
from anyecg.data.sources.mitdb import DS2
from anyecg.data.statement_corpus import (
    CPSC_TEST,
    LUDB_KNOWN,
    PTBXL_TEST_FOLD,
    cpsc_records,
    ludb_records,
    ptbxl_records,
)
from anyecg.eval.delineation import TEST_RECORDS as LUDB_TEST
from anyecg.eval.delineation import ludb_truth
from anyecg.io import read_record
from anyecg.signal.beats import SYMBOL_CLASS
from anyecg.signal.intervals import BEAT_SYMBOLS, beat_intervals
from anyecg.vocabulary import rhythm_name

QUESTIONS_FILE = Path(__file__).parent / "questions_v1.jsonl"
SHARED_DIRS = {"cpsc2018": "cpsc2018-a0001-a0150", "ptbxl": "ptbxl-500", "ludb": "ludb", "mitdb": "mitdb"}
CAP = 20  # questions per dataset and type
WINDOW_S = 10.0
EDGE_S = 0.25  # an ectopic beat this close to a window edge makes its count unsure: no count question
RR_REGULAR = 0.15  # sinus, all beats normal and every RR within 15 % of the median: a regular rhythm
PTBXL_AXIS = {"MID": "normal", "LAD": "left", "ALAD": "left", "RAD": "right", "ARAD": "right"}
ECTOPY_CLASS = {"Premature ventricular contraction": "V", "Premature atrial contraction": "S"}
LOCALIZE = ("V", "A")
SEED = "v1"


def roots(shared: Path) -> dict[str, Path]:
    """The `SOURCE:REL` roots of the question set's ECG references under the shared data folder."""
    return {source: Path(shared) / folder for source, folder in SHARED_DIRS.items()}


def cpsc_truths(shared: Path) -> list[RecordTruth]:
    return [RecordTruth(f"cpsc2018:{r.path.name}", "cpsc2018", ECGRef(f"cpsc2018:{r.path.name}"), r.names, r.known)
            for r in cpsc_records(shared, CPSC_TEST)]


def ptbxl_truths(shared: Path) -> list[RecordTruth]:
    folder = shared / SHARED_DIRS["ptbxl"]
    with open(folder / "ptbxl_database.csv", newline="", encoding="utf-8") as f:
        axis = {row["filename_hr"]: PTBXL_AXIS.get(row["heart_axis"]) for row in csv.DictReader(f)}
    out = []
    for r in ptbxl_records(shared, (PTBXL_TEST_FOLD,)):
        rel = r.path.relative_to(folder).as_posix()
        out.append(RecordTruth(f"ptbxl:{r.path.name.split('_')[0]}", "ptbxl", ECGRef(f"ptbxl:{rel}"), r.names,
                               r.known, axis=axis.get(rel)))
    return out


def annotated_rate(peaks_s: np.ndarray) -> float | None:
    """Heart rate (bpm) from annotated beat times: 60 / mean RR, leaving out gaps (RR > 1.8 × median)."""
    rr = np.diff(np.sort(peaks_s))
    if len(rr) < 2:
        return None
    rr = rr[rr <= 1.8 * np.median(rr)]
    return 60.0 / float(np.mean(rr))


def ludb_truths(shared: Path) -> list[RecordTruth]:
    out = []
    for r in ludb_records(shared, range(LUDB_TEST[0], LUDB_TEST[-1] + 1)):
        intervals = {k[:-3]: v for k, v in ludb_truth(r.path).items() if k != "p_ms" and v is not None}
        ann = read_record(r.path, annotations="ii")
        peaks = np.array([s for s, sym in zip(ann.beats.sample, ann.beats.symbol, strict=True) if sym == "N"])
        out.append(RecordTruth(f"ludb:{r.path.name}", "ludb", ECGRef(f"ludb:data/{r.path.name}"), r.names,
                               LUDB_KNOWN, heart_rate_bpm=annotated_rate(peaks / ann.fs), intervals_ms=intervals))
    return out


def _window_starts(rec, rng: random.Random, sample: np.ndarray, classes: list[str]) -> list[float]:
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
    return RecordTruth(
        f"mitdb:{name}@{start_s:.1f}", "mitdb", ECGRef(f"mitdb:{name}", start_s, end_s),
        names=frozenset({"Atrial fibrillation"} if family == "af" else ()),
        known=frozenset() if af_partial else frozenset({"Atrial fibrillation"}), rhythm=family,
        heart_rate_bpm=annotated_rate(times) if len(times) >= 3 else None, regular=regular, beat_counts=counts,
        localization=loc)


def mitdb_truths(shared: Path) -> list[RecordTruth]:
    out = []
    for name in sorted(DS2):
        rec = read_record(shared / SHARED_DIRS["mitdb"] / name)
        sym = list(rec.beats.symbol)
        beats = [i for i, s in enumerate(sym) if s in BEAT_SYMBOLS]
        sample = np.asarray(rec.beats.sample)[beats]
        classes = [SYMBOL_CLASS.get(sym[i], "Q") for i in beats]
        rng = random.Random(f"{SEED}-mitdb-{name}")
        out += [mitdb_window_truth(rec, name, s) for s in _window_starts(rec, rng, sample, classes)]
    return out


def _stratum(s: Sample) -> str:
    """The answer's category (numbers and intervals left out): rare answers are drawn first."""
    truth = s.meta["truth"]
    keep = {k: v for k, v in truth.items() if not isinstance(v, int | float) or isinstance(v, bool)}
    keep.pop("intervals", None)
    if "intervals" in truth:
        keep["positive"] = bool(truth["intervals"])
    if "count" in truth:
        keep["count"] = min(truth["count"], 2)
    return json.dumps(keep, sort_keys=True)


def _draw(samples: list[Sample], cap: int) -> list[Sample]:
    """At most `cap` samples, drawn deterministically (a hash of the id) in turn from each answer category, so
    that rare answers (AF, a block, a PVC) are kept; in id order."""
    strata: dict[str, list[Sample]] = defaultdict(list)
    for s in sorted(samples, key=lambda s: hashlib.sha1(f"{SEED}-{s.id}".encode()).hexdigest()):
        strata[_stratum(s)].append(s)
    queues = [strata[k] for k in sorted(strata)]
    picked: list[Sample] = []
    while len(picked) < cap and any(queues):
        for q in queues:
            if q and len(picked) < cap:
                picked.append(q.pop(0))
    return sorted(picked, key=lambda s: s.id)


def _pairs(truths: list[RecordTruth]) -> list[tuple[RecordTruth, RecordTruth]]:
    """Two deterministic pairings of one dataset's ECGs (windows of one MIT-BIH record are not paired)."""
    out = []
    for round_ in range(2):
        order = list(truths)
        random.Random(f"{SEED}-pairs-{truths[0].dataset}-{round_}").shuffle(order)
        out += [(a, b) for a, b in zip(order[::2], order[1::2], strict=False)
                if a.key.split("@")[0] != b.key.split("@")[0]]
    return out


def build_question_set(shared: Path, cap: int = CAP) -> list[Sample]:
    """The question set: per dataset and question type at most `cap` questions."""
    shared = Path(shared)
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for truths in (cpsc_truths(shared), ptbxl_truths(shared), ludb_truths(shared), mitdb_truths(shared)):
        for t in truths:
            for s in single_questions(t, "test", SEED):
                groups[(s.meta["qtype"], s.dataset)].append(s)
        for a, b in _pairs(truths):
            for s in pair_questions(a, b, "test", SEED):
                groups[(s.meta["qtype"], s.dataset)].append(s)
    seen: set[str] = set()
    out = []
    for key in sorted(groups):
        for s in _draw(groups[key], cap):
            if s.id not in seen:
                seen.add(s.id)
                out.append(s)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=QUESTIONS_FILE)
    p.add_argument("--cap", type=int, default=CAP)
    args = p.parse_args(argv)
    samples = build_question_set(args.shared_data, args.cap)
    n = write_jsonl(args.out, samples)
    counts: dict[str, int] = defaultdict(int)
    for s in samples:
        counts[s.meta["qtype"]] += 1
    print(f"{n} questions → {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
