"""The training data of the model release 3 (issue 14, item 2): TRAINING records only, one vocabulary.

Writes to OUT (default `data/release3`), beside one `manifest.json` whose `roots` resolve every `SOURCE:REL`
reference (`anyecg.train.dataset.manifest_roots`):

- `localization_10s.jsonl` / `localization_neg.jsonl`: MIT-BIH DS1, A/V/L/R beat targets (the release-2 recipe of
  configs/train/embedded_beats.yaml): 10 s windows with positives; `No ... Found` answers of 10 s and 10-60 s windows.
- `reports.jsonl`: `Report: a, b, c` with `anyecg.vocabulary` names: PTB-XL strat_fold 1-8 (ptbxl-500; plus the
  original `report` column text as a second target, asked for as the original report), CPSC2018 A0001-A0100, the
  CinC 2021 sample, Chapman-4, LUDB 1-120 (`anyecg.data.statement_corpus`), MIT-BIH DS1 10 s windows.
- `multiecg.jsonl`: comparisons of 2-6 ECGs (`anyecg.data.tasks.multiecg`): the builder's PTB-XL, CPSC and CinC
  groups, plus groups of 3-6 different training records of one database (PTB-XL, CPSC, CinC, LUDB).
- `ecgqa.jsonl`: ECG-QA questions (template and paraphrased) whose PTB-XL ECGs all lie in strat_fold 1-8 of ptbxl-500.

Every file is checked: no ECG of a held-out record (PTB-XL strat_fold 9/10, LUDB 121-160, CPSC2018 A0101-A0150,
MIT-BIH DS2) and valid samples. The builds (`anyecg data build`, resumable) go to OUT/.build. Made beside these by
their own modules: `questions.jsonl` (`anyecg.data.tasks.questions`), `general.jsonl` (`anyecg.data.tasks.general`).

    python -m anyecg.data.release3 --shared-data /work/shared/data --out data/release3
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from anyecg.data.question_truth import roots as shared_roots
from anyecg.data.schema import SPLITS, Sample, dumps, write_json, write_lines
from anyecg.data.sources.base import Unit, rng_for
from anyecg.data.sources.mitdb import DS1, DS2
from anyecg.data.statement_corpus import (
    CPSC_TEST,
    LUDB_TRAIN,
    PTBXL_TEST_FOLD,
    PTBXL_TRAIN_FOLDS,
    LabelledRecord,
    ludb_records,
    training_records,
)
from anyecg.data.tasks.multiecg import group_samples
from anyecg.data.tasks.report import holter_reports, label_report
from anyecg.io import read_record
from anyecg.vocabulary import PARENTS, STATEMENTS

SEED = 3
AVLR = ("A", "V", "L", "R")
LOC_CAP, ECGQA_CAP = 3000, 2000
MITDB_REPORT_WINDOWS = 30  # 10 s report windows per DS1 record
REPORT_TEXT_QUESTIONS = (
    "Write the original report of this ECG.",
    "What does the original clinical report of this ECG say?",
    "Give the cardiologist's report text for this ECG, as it was written.",
    "Quote the original report that came with this ECG.",
)
_ORDER = {name: i for i, name in enumerate(STATEMENTS)}


def build_commands(shared: Path, build: Path) -> dict[str, list[str]]:
    """The `anyecg data build` arguments of each intermediate build."""
    s = Path(shared)
    return {
        "loc": ["data", "build", "--source", f"mitdb={s / 'mitdb'}", "--out", str(build / "loc"), "--max-pos", "60",
                "--no-episodes", "--no-balance", "--tasks", "localization", "--quiet"],
        "12lead": ["data", "build", "--source", f"ptbxl={s / 'ptbxl-500'}",
                   "--source", f"cpsc2018={s / 'cpsc2018-a0001-a0150'}", "--source", f"cinc2021={s / 'cinc2021-sample'}",
                   "--out", str(build / "12lead"), "--tasks", "report,multiecg", "--quiet"],
        "ecgqa": ["data", "build", "--source", f"ptbxl={s / 'ptbxl-500'}", "--source", f"ecgqa={s / 'ecgqa'}",
                  "--out", str(build / "ecgqa"), "--tasks", "ecgqa", "--ecgqa-variant", "both", "--quiet"],
    }


# ---------------------------------------------------------------- held-out records

def ptbxl_folds(shared: Path) -> dict[int, tuple[int, str]]:
    """ecg_id → (strat_fold, filename_hr) of ptbxl-500."""
    with open(Path(shared) / "ptbxl-500" / "ptbxl_database.csv", newline="", encoding="utf-8") as f:
        return {int(float(r["ecg_id"])): (int(float(r["strat_fold"])), r["filename_hr"]) for r in csv.DictReader(f)}


def heldout_refs(shared: Path) -> frozenset[str]:
    """The `SOURCE:REL` paths of every held-out record (PTB-XL fold 9/10, LUDB 121-160, CPSC A0101-A0150, DS2)."""
    refs = {f"ptbxl:{rel}" for fold, rel in ptbxl_folds(shared).values() if fold >= PTBXL_TEST_FOLD}
    refs |= {f"ludb:data/{i}" for i in range(LUDB_TRAIN.stop, 161)}
    refs |= {f"cpsc2018:A{i:04d}" for i in CPSC_TEST}
    refs |= {f"mitdb:{r}" for r in DS2}
    return frozenset(refs)


def leaks(sample: dict, heldout: frozenset[str]) -> list[str]:
    return [e["path"] for e in sample["ecgs"] if e["path"] in heldout]


# ---------------------------------------------------------------- helpers

def _read(path: Path) -> Iterator[dict]:
    if path.is_file():
        with open(path, encoding="utf-8") as f:
            yield from (json.loads(line) for line in f if line.strip())


def _built(folder: Path, task: str, splits: Iterable[str] = ("train",)) -> Iterator[dict]:
    for split in splits:
        yield from _read(folder / f"{task}_{split}.jsonl")


def _cap(rows: list[dict], cap: int, seed: str) -> list[dict]:
    """At most `cap` rows, a seeded random choice kept in the original order."""
    if len(rows) <= cap:
        return rows
    keep = set(random.Random(seed).sample(range(len(rows)), cap))
    return [r for i, r in enumerate(rows) if i in keep]


def _as_train(d: dict, **meta) -> dict:
    """A sample of a training record that a build put in another split (its split kept in meta)."""
    if d["split"] != "train":
        d = {**d, "split": "train", "meta": {**d["meta"], "build_split": d["split"], **meta}}
    return d


def report_names(names: Iterable[str]) -> list[str]:
    """Statement names in vocabulary order, a general name left out when a regional one implies it."""
    names = set(names)
    implied = {PARENTS[n] for n in names if n in PARENTS}
    return sorted(names - implied, key=lambda n: _ORDER.get(n, len(_ORDER)))


# ---------------------------------------------------------------- the files

def localization(build: Path) -> tuple[list[dict], list[dict]]:
    """(10 s windows with positives, `No ... Found` windows of 10 s and 10-60 s): DS1, A/V/L/R."""
    rows = [d for d in _built(build / "loc", "localization") if d["meta"]["abnormal_type"] in AVLR
            and d["meta"]["record"] in DS1]
    pos = [d for d in rows if d["meta"]["intervals"] and d["meta"]["window"] == "10s"]
    neg = [d for d in rows if not d["meta"]["intervals"]]
    return _cap(pos, LOC_CAP, f"{SEED}-loc-pos"), _cap(neg, LOC_CAP, f"{SEED}-loc-neg")


def _record_report(r: LabelledRecord, source: str, key: str, ref: str) -> Sample | None:
    return label_report(source=source, key=key, ref=ref, split="train", labels=tuple(report_names(r.names)),
                        report=(), duration_s=10.0, rng=rng_for(SEED, "report", source, key),
                        extra={"codes": list(r.codes), "names": sorted(r.names)})


def reports(shared: Path, build: Path, folds: dict[int, tuple[int, str]]) -> list[dict]:
    out: list[dict] = []
    # PTB-XL folds 1-8 and CPSC2018 A0001-A0100 (their train split), the whole CinC 2021 sample
    for d in _built(build / "12lead", "report", SPLITS):
        if d["dataset"] == "cinc2021":
            out.append(_as_train(d))
        elif d["split"] == "train":
            out.append(d)
        if d["dataset"] == "ptbxl" and d["split"] == "train":
            text = re.sub(r"\s+", " ", d["meta"].get("report_text") or "").strip()
            ecg_id = int(d["meta"]["ecg_id"])
            if text and folds[ecg_id][0] in PTBXL_TRAIN_FOLDS:
                q = REPORT_TEXT_QUESTIONS[int(rng_for(SEED, "report-text", ecg_id).integers(len(REPORT_TEXT_QUESTIONS)))]
                conv = [{"role": "user", "content": d["conversation"][0]["content"].split("\n", 1)[0] + "\n" + q},
                        {"role": "assistant", "content": text}]
                out.append({**d, "id": f"{d['id']}-text", "conversation": conv,
                            "meta": {**d["meta"], "report_source": "database text"}})
    # Chapman-4 and LUDB 1-120: statement_corpus records (names of the statement classifier's training)
    for r in [r for r in training_records(shared) if r.database == "chapman"]:
        s = _record_report(r, "chapman", r.path.name, f"chapman:{r.path.name}")
        if s:
            out.append(s.to_dict())
    for r in ludb_records(shared, LUDB_TRAIN):
        s = _record_report(r, "ludb", r.path.name, f"ludb:data/{r.path.name}")
        if s:
            out.append(s.to_dict())
    # MIT-BIH DS1: 10 s windows, reports from the beat and rhythm annotations
    for key in sorted(DS1):
        record = read_record(Path(shared) / "mitdb" / key)
        out += [s.to_dict() for s in holter_reports(record, source="mitdb", key=key, ref=f"mitdb:{key}",
                                                    split="train", n_windows=MITDB_REPORT_WINDOWS,
                                                    rng=rng_for(SEED, "report-10s", "mitdb", key),
                                                    min_s=10.0, max_s=10.0)]
    return out


def multiecg(build: Path, shared: Path) -> list[dict]:
    """The builder's comparisons (PTB-XL same-patient groups; CPSC and CinC pairs), plus groups of 3-6 records."""
    built = [_as_train(d) if d["dataset"] == "cinc2021" else d for d in _built(build / "12lead", "multiecg", SPLITS)
             if d["split"] == "train" or d["dataset"] == "cinc2021"]
    return built + [s.to_dict() for s in larger_groups(shared)]


def larger_groups(shared: Path) -> list[Sample]:
    """Comparisons of 3-6 different training records of one database (no patient has that many ECGs here):
    each record of PTB-XL folds 1-8, CPSC A0001-A0100, the CinC 2021 sample and LUDB 1-120 in one group."""
    refs = {"ptbxl": lambda r: f"ptbxl:{r.path.relative_to(Path(shared) / 'ptbxl-500')}",
            "cpsc2018": lambda r: f"cpsc2018:{r.path.name}", "cinc2021": lambda r: f"cinc2021:{r.path.name}",
            "ludb": lambda r: f"ludb:data/{r.path.name}"}
    records = training_records(shared)
    out: list[Sample] = []
    for database, ref in refs.items():
        units = [Unit(database, r.path.name, ref(r), "train", f"{database}:{r.path.name}",
                      labels=tuple(report_names(r.names)), extra={"duration_s": 10.0})
                 for r in records if r.database == database]
        rng = random.Random(f"{SEED}-groups-{database}")
        rng.shuffle(units)
        i = 0
        while len(units) - i >= 3:
            size = min(rng.randint(3, 6), len(units) - i)
            out += group_samples(tuple(units[i:i + size]), source=database, same_patient=False, seed=SEED)
            i += size
    return out


def ecgqa(build: Path, folds: dict[int, tuple[int, str]]) -> list[dict]:
    """ECG-QA questions whose ECGs all lie in PTB-XL strat_fold 1-8 (ECG-QA's own split kept in meta)."""
    rows = [d for d in _built(build / "ecgqa", "ecgqa", SPLITS) if d["dataset"] == "ptbxl"
            and all(int(e) in folds and folds[int(e)][0] in PTBXL_TRAIN_FOLDS for e in d["meta"]["ecg_ids"])]
    return [_as_train(d) for d in _cap(rows, ECGQA_CAP, f"{SEED}-ecgqa")]


# ---------------------------------------------------------------- driver

def check(path: Path, heldout: frozenset[str]) -> int:
    """Validate every sample of a file and refuse held-out ECGs; returns the count."""
    n = 0
    for i, d in enumerate(_read(path), 1):
        Sample.from_dict(d, f"{path}:{i}")
        bad = leaks(d, heldout)
        if bad:
            raise SystemExit(f"{path}:{i}: held-out ECG(s) {bad}")
        n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    from anyecg.cli import main as anyecg_main

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared-data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("data/release3"))
    args = p.parse_args(argv)
    shared, out = args.shared_data.resolve(), args.out
    build = out / ".build"
    commands = build_commands(shared, build)
    for argv_ in commands.values():
        if anyecg_main(argv_) != 0:
            raise SystemExit(f"build failed: anyecg {' '.join(argv_)}")
    folds = ptbxl_folds(shared)
    pos, neg = localization(build)
    files = {"localization_10s.jsonl": pos, "localization_neg.jsonl": neg, "reports.jsonl": reports(shared, build, folds),
             "multiecg.jsonl": multiecg(build, shared), "ecgqa.jsonl": ecgqa(build, folds)}
    for name, rows in files.items():
        write_lines(out / name, (dumps(d) for d in rows))
    heldout = heldout_refs(shared)
    counts = {f.name: check(f, heldout) for f in sorted(out.glob("*.jsonl"))}
    tasks = {name: dict(Counter(d["dataset"] for d in _read(out / name))) for name in counts}
    write_json(out / "manifest.json", {
        "format": "anyecg-data/1", "about": "release-3 training data (issue 14): python -m anyecg.data.release3",
        "roots": {k: str(v) for k, v in shared_roots(shared).items()},
        "builds": {k: "anyecg " + " ".join(v) for k, v in commands.items()},
        "files": counts, "datasets": tasks,
        "held_out": "PTB-XL strat_fold 9/10, LUDB 121-160, CPSC2018 A0101-A0150, MIT-BIH DS2: checked absent",
    })
    for name, n in counts.items():
        print(f"{out / name}: {n}  {tasks[name]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
