"""Evaluation samples: our JSONL samples and the official test lists, seen the same way by every task.

An `EvalSample` is a sample split into what a predictor sees (`prompt`: the turns before the last
assistant turn, `ecgs`: resolved ECG references) and what the scorer sees (`truth`, `meta`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from anyecg.data.schema import Sample, read_jsonl, resolve_path
from anyecg.errors import ConfigError

# Native sampling rates of the databases behind the official localization lists (their ecg_start/ecg_end
# are sample indices at these rates).
OFFICIAL_FS = {"mit_bih_arrhythmia": 360.0, "mit_bih_st": 360.0, "european_st_t": 250.0}


@dataclass(frozen=True)
class EvalRef:
    """One ECG of a sample: a file path, an optional window (seconds from the recording start), leads."""

    path: Path
    start_s: float | None = None
    end_s: float | None = None
    leads: tuple[str, ...] = ()

    def load(self, mask_leads: tuple[str, ...] | list[str] = ()):
        """The model input (`anyecg.signal.preprocess.ECGInput`) of this reference."""
        from anyecg.signal.preprocess import preprocess_file

        return preprocess_file(self.path, start_s=self.start_s, end_s=self.end_s, leads=self.leads or None,
                               mask_leads=tuple(mask_leads))


@dataclass(frozen=True)
class EvalSample:
    """A sample to answer and score."""

    id: str
    task: str
    dataset: str
    ecgs: tuple[EvalRef, ...]
    prompt: tuple[dict[str, str], ...]
    truth: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def abnormal_type(self) -> str:
        return str(self.meta["abnormal_type"])

    @property
    def duration_s(self) -> float:
        """Length of the (first) ECG window in seconds."""
        ref = self.ecgs[0]
        if ref.start_s is None or ref.end_s is None:
            return float(self.meta["duration_s"])
        return ref.end_s - ref.start_s

    @property
    def is_negative(self) -> bool:
        """A localization sample whose answer is `No ... Found`."""
        return self.truth.strip().lower().startswith("no ")

    def with_id(self, new_id: str) -> EvalSample:
        return replace(self, id=new_id)


def _split_conversation(conv: list[dict[str, str]], where: str) -> tuple[tuple[dict[str, str], ...], str]:
    last = max((i for i, t in enumerate(conv) if t["role"] == "assistant"), default=None)
    if last is None:
        raise ConfigError("sample has no assistant turn to score against", where)
    return tuple(conv[:last]), conv[last]["content"]


def from_sample(sample: Sample, roots: Mapping[str, str | Path]) -> EvalSample:
    """An `EvalSample` from one sample of our JSONL schema; `SOURCE:REL` paths resolve against `roots`."""
    conv = [t.to_dict() for t in sample.conversation]
    prompt, truth = _split_conversation(conv, sample.id)
    refs = tuple(EvalRef(resolve_path(e, roots), e.start_s, e.end_s, tuple(e.leads or ())) for e in sample.ecgs)
    return EvalSample(sample.id, sample.task, sample.dataset, refs, prompt, truth, dict(sample.meta))


def from_official_dict(d: dict[str, Any], index: int, root: Path, name: str) -> EvalSample:
    """An `EvalSample` from an official anyECG-chat test row (location, ecgqa, multi; digest §4)."""
    paths = d["ecg_path"] if isinstance(d["ecg_path"], list) else [d["ecg_path"]]
    dataset = d.get("dataset", "")
    meta = {k: d[k] for k in ("abnormal_type", "question_type", "template_id") if k in d}
    if d["task"] in ("location", "location_long"):
        meta["window"] = "10-60s" if d["task"] == "location_long" else "10s"
    if "ecg_start" in d:
        fs = OFFICIAL_FS.get(dataset)
        if fs is None:
            raise ConfigError(f"no sampling rate known for official dataset {dataset!r}", name)
        refs = tuple(EvalRef(root / p, d["ecg_start"] / fs, d["ecg_end"] / fs) for p in paths)
    else:
        refs = tuple(EvalRef(root / p) for p in paths)
    question = "\n".join(["<ecg>"] * len(paths) + [d["question"]])
    task = {"location": "localization", "location_long": "localization", "multi": "multiecg"}.get(
        d["task"], d["task"])
    return EvalSample(f"{Path(name).stem}-{index:05d}", task, dataset, refs,
                      ({"role": "user", "content": question},), d["answer"], meta)


def load_samples(path: str | Path, *, data_root: str | Path | None = None,
                 roots: Mapping[str, str | Path] | None = None) -> list[EvalSample]:
    """Samples from our JSONL (`.jsonl`, `SOURCE:REL` paths resolved against `roots`) or an official test
    list (`.json` array, `ecg_path`s relative to `data_root`, e.g. the MIT-BIH directory)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("evaluation data not found", path)
    if path.suffix == ".json":
        rows = json.loads(path.read_text())
        if not isinstance(rows, list):
            raise ConfigError("expected a JSON array of official test rows", path)
        root = Path(data_root) if data_root else path.parent
        return [from_official_dict(r, i, root, path.name) for i, r in enumerate(rows)]
    return [from_sample(s, roots or {}) for s in read_jsonl(path)]
