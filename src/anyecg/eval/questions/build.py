"""Build the held-out question set from labels and annotations only (never from our own measurements).

Records (`--split test`, the default): CPSC2018 A0101-A0150 (Dx labels), PTB-XL strat_fold 9 (SCP codes, the
`heart_axis` column), LUDB 121-160 (diagnoses; heart rate and PR / QRS / QT from the cardiologists' delineation: per
beat the median across annotated leads, then the median over beats), MIT-BIH DS2 10 s windows (beat and rhythm
annotations). Per dataset and question type at most `CAP` questions, drawn deterministically; comparisons pair ECGs
of one dataset.

`--split valid` builds the same kind of set from training records (CPSC2018 A0001-A0100, PTB-XL folds 1-8, LUDB
1-120, MIT-BIH DS1): the place to tune the read's rules and answer formats without looking at the test set. Its
figures are optimistic (the beat classifier and the statement classifier were trained on these records).

    python -m anyecg.eval.questions.build --shared-data ../shared/data   # rewrites questions_v2.jsonl
    python -m anyecg.eval.questions.build --split valid --out data/eval/questions_valid.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections import defaultdict
from pathlib import Path

from anyecg.data.question_truth import cpsc_truths, ludb_truths, mitdb_truths, ptbxl_truths
from anyecg.data.questions import RecordTruth, pair_questions, single_questions
from anyecg.data.schema import Sample, write_jsonl
from anyecg.data.sources.mitdb import DS1, DS2
from anyecg.data.statement_corpus import CPSC_TEST, CPSC_TRAIN, PTBXL_TEST_FOLD, PTBXL_TRAIN_FOLDS
from anyecg.eval.delineation import TEST_RECORDS as LUDB_TEST
from anyecg.eval.delineation import TUNE_RECORDS as LUDB_TUNE
from anyecg.eval.delineation import ludb_truth

QUESTIONS_FILE = Path(__file__).parent / "questions_v2.jsonl"
CAP = 20  # questions per dataset and type
SEED = "v1"


def ludb_intervals(path: Path) -> dict[str, float]:
    """The cardiologists' PR, QRS and QT (ms) of a LUDB record (`anyecg.eval.delineation.ludb_truth`)."""
    return {k[:-3]: v for k, v in ludb_truth(path).items() if k != "p_ms" and v is not None}


SPLITS = ("test", "valid")


def split_truths(shared: Path, split: str = "test") -> list[list[RecordTruth]]:
    """Per dataset, the truths of the split's records: "test" the held-out records (MIT-BIH: DS2 windows), "dev"
    training records (MIT-BIH: DS1 windows)."""
    if split == "test":
        return [cpsc_truths(shared, CPSC_TEST), ptbxl_truths(shared, (PTBXL_TEST_FOLD,)),
                ludb_truths(shared, LUDB_TEST, ludb_intervals), mitdb_truths(shared, DS2, SEED)]
    if split == "valid":
        return [cpsc_truths(shared, CPSC_TRAIN), ptbxl_truths(shared, tuple(PTBXL_TRAIN_FOLDS)),
                ludb_truths(shared, LUDB_TUNE, ludb_intervals), mitdb_truths(shared, DS1, SEED)]
    raise ValueError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")


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


def build_question_set(shared: Path, cap: int = CAP, split: str = "test") -> list[Sample]:
    """The question set of a split: per dataset and question type at most `cap` questions."""
    shared = Path(shared)
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for truths in split_truths(shared, split):
        for t in truths:
            for s in single_questions(t, split, SEED):
                groups[(s.meta["qtype"], s.dataset)].append(s)
        for a, b in _pairs(truths):
            for s in pair_questions(a, b, split, SEED):
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
    p.add_argument("--split", choices=SPLITS, default="test",
                   help="test: the held-out records (default); valid: training records, for tuning")
    args = p.parse_args(argv)
    if args.split != "test" and args.out == QUESTIONS_FILE:
        p.error("--split valid needs --out (questions_v2.jsonl is the test set)")
    samples = build_question_set(args.shared_data, args.cap, args.split)
    n = write_jsonl(args.out, samples)
    counts: dict[str, int] = defaultdict(int)
    for s in samples:
        counts[s.meta["qtype"]] += 1
    print(f"{n} questions → {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
