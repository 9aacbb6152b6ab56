"""Evaluation samples: our JSONL samples and the official test lists, seen the same way by every task.

An `EvalSample` is a sample split into what a predictor sees (`prompt`: the turns before the last
assistant turn, `ecgs`: resolved ECG references) and what the scorer sees (`truth`, `meta`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyecg.data.official import load_official
from anyecg.data.schema import Sample, read_jsonl, resolve_path
from anyecg.errors import ConfigError


@dataclass(frozen=True)
class EvalRef:
    """One ECG of a sample: a file path, an optional window (seconds from the recording start), leads."""

    path: Path
    start_s: float | None = None
    end_s: float | None = None
    leads: tuple[str, ...] = ()

    def load(self, mask_leads: tuple[str, ...] | list[str] = ()):
        """The model input (`anyecg.signal.preprocess.ECGInput`) of this reference, its record read with the
        context `ECGChat` reads (`read_window`), so that the machine read in the prompt is the one users get."""
        from anyecg.findings.read import read_window
        from anyecg.signal.preprocess import preprocess

        record = read_window(self.path, start_s=self.start_s, end_s=self.end_s)
        return preprocess(record, start_s=self.start_s, end_s=self.end_s, leads=self.leads or None,
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


def load_samples(path: str | Path, *, data_root: str | Path | None = None,
                 roots: Mapping[str, str | Path] | None = None) -> list[EvalSample]:
    """Samples from our JSONL (`.jsonl`, `SOURCE:REL` paths resolved against `roots`) or an official test
    list (`.json` array, `ecg_path`s relative to `data_root`, e.g. the MIT-BIH directory)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("evaluation data not found", path)
    if path.suffix == ".json":
        official = list(load_official(path))
        root = data_root or path.parent
        roots = {**{s.ecgs[0].path.split(":")[0]: root for s in official if s.ecgs}, **(roots or {})}
        return [from_sample(s, roots) for s in official]
    return [from_sample(s, roots or {}) for s in read_jsonl(path)]
