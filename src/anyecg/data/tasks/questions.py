"""Training questions (issue 14, item 2): the question set's types and phrasings (`anyecg.data.questions`) over the
TRAINING records only — PTB-XL strat_fold 1-8, CPSC2018 A0001-A0100, the CinC 2021 sample, Chapman-4, LUDB 1-120
and MIT-BIH DS1 10 s windows — in one vocabulary. Answers come from the labels and annotations as in the held-out
set; where a record has no annotation for a number (heart rate, PR / QRS / QT, axis), from the machine read
(`anyecg.findings.read_findings`), which the held-out set never uses. No record of the held-out set is read.

    python -m anyecg.data.tasks.questions --shared-data ../shared/data --out runs/train_questions.jsonl
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

from anyecg.data.question_truth import (
    cpsc_truths,
    dx_truths,
    ludb_truths,
    mitdb_truths,
    ptbxl_truths,
    roots,
)
from anyecg.data.questions import RecordTruth, pair_questions, single_questions
from anyecg.data.schema import Sample, Turn, qa, resolve_path, write_jsonl
from anyecg.data.sources.mitdb import DS1
from anyecg.data.statement_corpus import CPSC_TRAIN, LUDB_TRAIN, PTBXL_TRAIN_FOLDS
from anyecg.data.templates import QUESTIONS
from anyecg.errors import AnyECGError
from anyecg.findings.summary import AXIS_LIMITS
from anyecg.io import read_record
from anyecg.vocabulary import lower

SEED = "train-v1"


def with_measurements(t: RecordTruth, shared: Path) -> RecordTruth:
    """Fill what the labels lack (heart rate, PR / QRS / QT, axis) from the machine read of the ECG."""
    from anyecg.findings.read import read_findings

    try:
        ecg = read_record(resolve_path(t.ref, roots(shared)), start_s=t.ref.start_s, end_s=t.ref.end_s,
                          annotations=False)
    except AnyECGError:
        return t
    m = read_findings(ecg).measurements
    intervals = {k: v for k, v in (("pr", m.pr_ms), ("qrs", m.qrs_ms), ("qt", m.qt_ms)) if v is not None}
    axis = t.axis
    # LUDB's stored gains normalise each lead, so its amplitudes (and the axis from them) mean nothing
    if axis is None and m.qrs_axis_deg is not None and {"I", "aVF"} <= set(ecg.leads) and t.dataset != "ludb":
        lo, hi = AXIS_LIMITS
        axis = "left" if m.qrs_axis_deg < lo else "right" if m.qrs_axis_deg > hi else "normal"
    return replace(t, heart_rate_bpm=t.heart_rate_bpm or m.heart_rate_bpm, intervals_ms={**intervals, **t.intervals_ms},
                   axis=axis)


def training_truths(shared: Path, *, measure: bool = True) -> list[list[RecordTruth]]:
    """Per database, the truths of its training records (MIT-BIH: DS1 windows)."""
    groups = [cpsc_truths(shared, CPSC_TRAIN), ptbxl_truths(shared, tuple(PTBXL_TRAIN_FOLDS)),
              dx_truths(shared, "cinc2021"), dx_truths(shared, "chapman"), ludb_truths(shared, LUDB_TRAIN),
              mitdb_truths(shared, DS1, SEED)]
    if measure:
        groups = [[with_measurements(t, shared) if t.dataset != "mitdb" else t for t in g] for g in groups]
    return [g for g in groups if g]


def training_questions(shared: Path, *, measure: bool = True) -> list[Sample]:
    """Every question the training truths answer, plus comparisons of two ECGs of one database (split `train`)."""
    out: list[Sample] = []
    for truths in training_truths(Path(shared), measure=measure):
        for t in truths:
            out += single_questions(t, "train", SEED)
        for round_ in range(2):
            order = list(truths)
            random.Random(f"{SEED}-pairs-{truths[0].dataset}-{round_}").shuffle(order)
            for a, b in zip(order[::2], order[1::2], strict=False):
                if a.key.split("@")[0] != b.key.split("@")[0]:
                    out += pair_questions(a, b, "train", SEED)
    seen: set[str] = set()
    return [s for s in out if not (s.id in seen or seen.add(s.id))]


YES_NO = ("af", "conduction", "ectopy")


def positive_phrasings(samples: list[Sample]) -> list[Sample]:
    """Each yes/no question whose answer is yes (`YES_NO` types) once more in each of its other phrasings.
    Positives are rare (AF in ~10 % of the training records), so a model trained on one phrasing per record learns
    to answer "No" whatever its read says; this evens the two answers out with new questions, not repeated lines."""
    extra = []
    for s in samples:
        qtype, truth = s.meta["qtype"], s.meta["truth"]
        if qtype not in YES_NO or not truth.get("present"):
            continue
        fill = {"X": lower(truth["statement"])}
        for i, template in enumerate(QUESTIONS[qtype]):
            if i != s.meta["template"]:
                turns = qa(template.format(**fill), s.answer, len(s.ecgs))
                extra.append(replace(s, id=f"{s.id}-p{i}", conversation=turns, meta={**s.meta, "template": i}))
    return samples + extra


def read_consistent(samples: list[Sample], shared: Path) -> tuple[list[Sample], Counter]:
    """Each answer made to agree with the machine read the model sees in its prompt (`ECGChat`'s read of each
    ECG, in its recording): the label's answer where the read's own answer (`findings_answer`) grades right against
    the label, the read's answer where it does not. A model trained on label answers the read contradicts learns
    to ignore its read; trained this way it learns to answer from it, and the checks compare it with the same read.
    Returns the samples (meta `target`: `label` or `read`) and the count of read targets per question type."""
    from anyecg.eval.questions.grade import grade
    from anyecg.findings.answers import FindingsCache, findings_answer

    cache, where, replaced = FindingsCache(), roots(Path(shared)), Counter()
    out = []
    for s in samples:
        fs = [cache.get(resolve_path(e, where), e.start_s, e.end_s) for e in s.ecgs]
        read = findings_answer(s.meta["qtype"], s.meta["truth"], fs)
        if grade(s.meta, read).correct:
            out.append(replace(s, meta={**s.meta, "target": "label"}))
            continue
        replaced[s.meta["qtype"]] += 1
        turns = (*s.conversation[:-1], Turn("assistant", read))
        out.append(replace(s, conversation=turns, meta={**s.meta, "target": "read"}))
    return out, replaced


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--no-measure", action="store_true", help="labels and annotations only (no machine read)")
    p.add_argument("--positive-phrasings", action="store_true",
                   help="ask each yes/no question whose answer is yes in every phrasing (evens out yes and no)")
    p.add_argument("--targets", choices=("label", "read"), default="label",
                   help="label: answers from the labels; read: made to agree with the machine read in the prompt")
    args = p.parse_args(argv)
    samples = training_questions(args.shared_data, measure=not args.no_measure)
    if args.positive_phrasings:
        samples = positive_phrasings(samples)
    if args.targets == "read":
        samples, replaced = read_consistent(samples, args.shared_data)
        print(f"{sum(replaced.values())} of {len(samples)} answers replaced by the read's: "
              + ", ".join(f"{k} {v}" for k, v in sorted(replaced.items())))
    n = write_jsonl(args.out, samples)
    counts = Counter(s.meta["qtype"] for s in samples)
    print(f"{n} training questions → {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
