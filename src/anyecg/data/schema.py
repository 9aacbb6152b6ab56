"""The sample JSONL schema: ECG references + a conversation, one sample per line.

```json
{"id": "mitdb-100-V-000123", "task": "localization", "dataset": "mitdb", "split": "train",
 "ecgs": [{"path": "mitdb:100", "start_s": 12.3, "end_s": 22.3, "leads": ["II", "V1"]}],
 "conversation": [{"role": "user", "content": "<ecg>\\nLocate ..."}, {"role": "assistant", "content": "..."}],
 "meta": {"abnormal_type": "V", "intervals": [[1.9, 3.1]]}}
```
`path` is `SOURCE:RELATIVE` (resolved against the source roots of a build's `manifest.json`) or a plain path.
`start_s`/`end_s` are seconds from the recording start (None: from the start / to the end); `leads` None: all.
Every user turn's `<ecg>` placeholders, counted over the conversation, equal the number of ECGs.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from anyecg.atomic import atomic_path
from anyecg.errors import DataBuildError
from anyecg.leads import CANONICAL_LEADS
from anyecg.prompts import ECG_PLACEHOLDER, ecgs_first

TASKS = ("report", "localization", "multiecg", "ecgqa", "chat", "general")  # general: ECG-free turns
SPLITS = ("train", "valid", "test")
ROLES = ("user", "assistant", "system")
_SOURCE_REF = re.compile(r"^([A-Za-z][\w.-]*):(?![\\/])(.+)$")  # 'mitdb:100', not 'C:\\x' or 'C:/x'


@dataclass(frozen=True)
class ECGRef:
    """One ECG in a sample: a file (or `SOURCE:REL`), a window in seconds and the leads to keep."""

    path: str
    start_s: float | None = None
    end_s: float | None = None
    leads: tuple[str, ...] | None = None

    def to_dict(self) -> dict:
        return {"path": self.path, "start_s": self.start_s, "end_s": self.end_s,
                "leads": list(self.leads) if self.leads is not None else None}

    @classmethod
    def from_dict(cls, d: Mapping) -> ECGRef:
        leads = d.get("leads")
        return cls(str(d["path"]), _opt_float(d.get("start_s")), _opt_float(d.get("end_s")),
                   tuple(leads) if leads is not None else None)

    @property
    def duration_s(self) -> float | None:
        if self.start_s is None or self.end_s is None:
            return None
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Turn:
    role: str
    content: str

    def to_dict(self) -> dict:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Sample:
    """One training / evaluation sample (see the module docstring)."""

    id: str
    task: str
    dataset: str
    split: str
    ecgs: tuple[ECGRef, ...]
    conversation: tuple[Turn, ...]
    meta: dict = field(default_factory=dict)

    @property
    def question(self) -> str:
        return next(t.content for t in self.conversation if t.role == "user")

    @property
    def answer(self) -> str:
        return next(t.content for t in self.conversation if t.role == "assistant")

    def to_dict(self) -> dict:
        return {"id": self.id, "task": self.task, "dataset": self.dataset, "split": self.split,
                "ecgs": [e.to_dict() for e in self.ecgs],
                "conversation": [t.to_dict() for t in self.conversation], "meta": self.meta}

    @classmethod
    def from_dict(cls, d: Mapping, where: str | None = None) -> Sample:
        validate(d, where)
        return cls(str(d["id"]), d["task"], str(d["dataset"]), d["split"],
                   tuple(ECGRef.from_dict(e) for e in d["ecgs"]),
                   tuple(Turn(t["role"], t["content"]) for t in d["conversation"]), dict(d.get("meta") or {}))

    def to_json(self) -> str:
        return dumps(self.to_dict())


def qa(question: str, answer: str, n_ecgs: int = 1) -> tuple[Turn, ...]:
    """A one-question conversation with the `<ecg>` placeholders in front of the question."""
    return (Turn("user", ecgs_first(question, n_ecgs, sep="\n")), Turn("assistant", answer))


def dumps(obj: object) -> str:
    """The one JSON encoding used for samples and manifests (stable key order, UTF-8, no NaN)."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def _opt_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def validate(d: object, where: str | None = None) -> None:
    """Raise `DataBuildError` naming the field when `d` is not a valid sample dict."""
    def fail(reason: str) -> None:
        sid = d.get("id") if isinstance(d, Mapping) else None
        raise DataBuildError(f"sample {sid!r}: {reason}" if sid is not None else reason, where)

    if not isinstance(d, Mapping):
        fail(f"a sample must be a JSON object, got {type(d).__name__}")
        return
    for key in ("id", "task", "dataset", "split", "ecgs", "conversation"):
        if key not in d:
            fail(f"missing field '{key}'")
    if d["task"] not in TASKS:
        fail(f"task {d['task']!r} is not one of {', '.join(TASKS)}")
    if d["split"] not in SPLITS:
        fail(f"split {d['split']!r} is not one of {', '.join(SPLITS)}")
    if not isinstance(d["ecgs"], list):
        fail("'ecgs' must be a list")
    for i, ecg in enumerate(d["ecgs"]):
        if not isinstance(ecg, Mapping) or not isinstance(ecg.get("path"), str) or not ecg["path"]:
            fail(f"ecgs[{i}] needs a non-empty 'path'")
        start, end = ecg.get("start_s"), ecg.get("end_s")
        for name, value in (("start_s", start), ("end_s", end)):
            if value is not None and (not isinstance(value, int | float) or not math.isfinite(value) or value < 0):
                fail(f"ecgs[{i}].{name} must be a number >= 0 or null, got {value!r}")
        if start is not None and end is not None and end <= start:
            fail(f"ecgs[{i}] window ends ({end}) before it starts ({start})")
        leads = ecg.get("leads")
        if leads is not None and (not leads or any(lead not in CANONICAL_LEADS for lead in leads)):
            fail(f"ecgs[{i}].leads {leads!r} must be canonical lead names ({', '.join(CANONICAL_LEADS)})")
    conv = d["conversation"]
    if not isinstance(conv, list) or not conv:
        fail("'conversation' must be a non-empty list of turns")
    for i, turn in enumerate(conv):
        if not isinstance(turn, Mapping) or turn.get("role") not in ROLES or not isinstance(turn.get("content"), str):
            fail(f"conversation[{i}] must be {{'role': one of {ROLES}, 'content': str}}")
    if not any(t["role"] == "assistant" for t in conv):
        fail("the conversation has no assistant turn")
    n_placeholders = sum(t["content"].count(ECG_PLACEHOLDER) for t in conv if t["role"] == "user")
    if n_placeholders != len(d["ecgs"]):
        fail(f"{n_placeholders} '{ECG_PLACEHOLDER}' placeholder(s) in the user turns but {len(d['ecgs'])} ECG(s)")
    if not isinstance(d.get("meta", {}), Mapping):
        fail("'meta' must be an object")


def resolve_path(ref: str | ECGRef, roots: Mapping[str, str | Path]) -> Path:
    """`mitdb:100` → `<roots['mitdb']>/100`; a plain path is returned as it is.

    Raises `DataBuildError` when the source has no root (name the roots a build used: manifest['sources']).
    """
    path = ref.path if isinstance(ref, ECGRef) else ref
    match = _SOURCE_REF.match(path)
    if match is None or len(match.group(1)) == 1:  # no source prefix, or a Windows drive letter
        return Path(path)
    source, rel = match.groups()
    if source not in roots:
        raise DataBuildError(f"ECG reference {path!r}: no root for source '{source}' "
                             f"(known: {', '.join(sorted(roots)) or 'none'}); pass the build's manifest roots")
    return Path(roots[source]) / rel


def read_jsonl(path: str | Path, *, check: bool = True) -> Iterator[Sample]:
    """Samples of a JSONL file, one per non-empty line; `DataBuildError` names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise DataBuildError("no such JSONL file", path)
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataBuildError(f"line {n}: not JSON ({err.msg})", path) from err
            if check:
                yield Sample.from_dict(d, f"{path}:{n}")
            else:
                yield Sample(d["id"], d["task"], d["dataset"], d["split"],
                             tuple(ECGRef.from_dict(e) for e in d["ecgs"]),
                             tuple(Turn(t["role"], t["content"]) for t in d["conversation"]), d.get("meta", {}))


def write_jsonl(path: str | Path, samples: Iterable[Sample | Mapping]) -> int:
    """Write samples atomically (temp file + rename: readers never see half a file). Returns the count."""
    lines = (s.to_json() if isinstance(s, Sample) else dumps(s) for s in samples)
    return write_lines(path, lines)


def write_lines(path: str | Path, lines: Iterable[str]) -> int:
    """Atomically write text lines (each gets a trailing newline)."""
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line)
            f.write("\n")
            n += 1
    return n


def write_json(path: str | Path, obj: object) -> None:
    """Atomically write one JSON document, indented, keys in insertion order."""
    write_lines(path, [json.dumps(obj, ensure_ascii=False, indent=1, allow_nan=False)])
