"""Load the official anyECG-chat JSON (`data/*.json`, `location_evaluation/*.json`) as our samples.

Rows: question, answer, ecg_path (str or list), dataset, task, and for localization abnormal_type, ecg_start,
ecg_end (native samples → seconds with the dataset's rate). Dataset names become our source names, so paths read
`mitdb:100`; files named *test* are the test split, the others train.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from anyecg.data.schema import ECGRef, Sample, qa
from anyecg.data.sources.registry import OFFICIAL_DATASETS, OFFICIAL_FS
from anyecg.errors import DataBuildError
from anyecg.signal.intervals import parse_answer
from anyecg.timebase import to_seconds

_TASKS = {"report": "report", "location": "localization", "location_long": "localization", "ecgqa": "ecgqa",
          "multi": "multiecg", "open-ended": "multiecg"}


def official_sample(row: dict, index: int, name: str, split: str) -> Sample:
    """One official row as a `Sample` (id `official-<file stem>-<index>`)."""
    where = f"{name}[{index}]"
    try:
        dataset, task = row["dataset"], row["task"]
        paths = row["ecg_path"] if isinstance(row["ecg_path"], list) else [row["ecg_path"]]
        question, answer = row["question"], row["answer"]
    except KeyError as err:
        raise DataBuildError(f"official row lacks field {err}", where) from None
    if task not in _TASKS:
        raise DataBuildError(f"unknown official task {task!r}", where)
    source = OFFICIAL_DATASETS.get(dataset, dataset)
    meta: dict = {"official_task": task, "official_dataset": dataset,
                  **{k: row[k] for k in ("abnormal_type", "question_type", "template_id") if k in row}}
    start_s = end_s = None
    if "ecg_start" in row:
        fs = OFFICIAL_FS.get(dataset)
        if fs is None:
            raise DataBuildError(f"no sampling rate known for official dataset {dataset!r}", where)
        start_s, end_s = to_seconds(row["ecg_start"], fs), to_seconds(row["ecg_end"], fs)
        meta.update(fs=fs, start_sample=row["ecg_start"], end_sample=row["ecg_end"],
                    window="long" if task == "location_long" else "10s",
                    duration_s=round(end_s - start_s, 6), intervals=[list(iv) for iv in parse_answer(answer)])
    refs = tuple(ECGRef(f"{source}:{p}", start_s, end_s) for p in paths)
    return Sample(f"official-{Path(name).stem}-{index:05d}", _TASKS[task], source, split, refs,
                  qa(question, answer, len(refs)), meta)


def load_official(path: str | Path) -> Iterator[Sample]:
    """Samples of one official JSON file (a JSON array of rows)."""
    path = Path(path)
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataBuildError(f"unreadable official JSON: {err}", path) from err
    if not isinstance(rows, list):
        raise DataBuildError("expected a JSON array of rows", path)
    split = "test" if "test" in path.stem else "train"
    for i, row in enumerate(rows):
        yield official_sample(row, i, path.name, split)
