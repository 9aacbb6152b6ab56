"""MultiECG samples: 2-6 ECGs of one patient in time order, questions about what changed, answered from labels.

Groups: a patient's ECGs of one split sorted by time, in consecutive runs of at most 6. Sources without patient
ids pair records of one split instead (the manifest says so). The question names the gaps
("ECGs collected 1323 days ago, 0 days ago": days before the latest ECG, in the order the ECGs are given).
Answers list each ECG's findings for the aspect (rhythm, rate, conduction, ectopy, ST), then what is new and what
resolved between the first and the last ECG.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from anyecg.data.labels import aspects_of
from anyecg.data.schema import ECGRef, Sample, qa
from anyecg.data.sources.base import Unit, rng_for
from anyecg.data.templates import MULTIECG

MAX_ECGS = 6
_ASPECT_WORDS = {"rhythm": "rhythm", "rate": "rate", "conduction": "conduction", "ectopy": "ectopy",
                 "st": "ST-T", "overall": "findings"}


def _time(unit: Unit) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(unit.time) if unit.time else None
    except ValueError:
        return None


def make_groups(units: Sequence[Unit], seed: int, source: str) -> tuple[list[tuple[Unit, ...]], bool]:
    """Groups of 2-6 units; True when they are same-patient groups, False when records were paired."""
    by_patient: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    for u in units:
        if u.patient is not None and _time(u) is not None:
            by_patient[(u.patient, u.split)].append(u)
    groups: list[tuple[Unit, ...]] = []
    for key in sorted(by_patient):
        run = sorted(by_patient[key], key=lambda u: (_time(u), u.key))
        for i in range(0, len(run), MAX_ECGS):
            chunk = run[i:i + MAX_ECGS]
            if len(chunk) >= 2:
                groups.append(tuple(chunk))
    if groups or not units:
        return groups, True
    by_split: dict[str, list[Unit]] = defaultdict(list)
    for u in sorted(units, key=lambda u: u.key):
        by_split[u.split].append(u)
    for split in sorted(by_split):
        pool = by_split[split]
        order = rng_for(seed, "multiecg-pairs", source, split).permutation(len(pool))
        groups += [(pool[order[i]], pool[order[i + 1]]) for i in range(0, len(pool) - 1, 2)]
    return groups, False


def gaps_phrase(group: Sequence[Unit]) -> str:
    times = [_time(u) for u in group]
    if any(t is None for t in times):
        return f"{len(group)} ECGs"
    last = max(times)  # type: ignore[type-var]
    return "ECGs collected " + ", ".join(f"{(last - t).days} days ago" for t in times)  # type: ignore[operator]


def _findings(unit: Unit, aspect: str) -> list[str]:
    labels = list(unit.labels)
    if aspect == "overall":
        return labels
    found = [lab for lab in labels if aspect in aspects_of(lab)]
    if aspect == "rate" and unit.extra.get("heart_rate"):
        found.insert(0, f"heart rate {unit.extra['heart_rate']} bpm")
    return found


def answer_for(group: Sequence[Unit], aspect: str) -> str:
    """Deterministic comparison of the group's findings for one aspect."""
    return comparison_answer([_findings(u, aspect) for u in group], aspect,
                             [u.extra.get("heart_rate") for u in group])


def comparison_answer(per_ecg: Sequence[Sequence[str]], aspect: str = "overall",
                      rates: Sequence[float | None] | None = None) -> str:
    """The builder's answer format: each ECG's findings (`ECG 1: A; B.`), the rate change for the rate aspect,
    then what is new in the last ECG and what is no longer present since the first."""
    word = _ASPECT_WORDS[aspect]
    lines = [f"ECG {i + 1}: {'; '.join(f) if f else f'no {word} finding reported'}."
             for i, f in enumerate(per_ecg)]
    first, last = set(per_ecg[0]), set(per_ecg[-1])
    if aspect == "rate" and rates and rates[0] and rates[-1]:
        diff = rates[-1] - rates[0]
        lines.append(f"Heart rate {'rose' if diff > 0 else 'fell' if diff < 0 else 'stayed'} "
                     f"from {rates[0]} to {rates[-1]} bpm." if diff else f"Heart rate unchanged at {rates[0]} bpm.")
    new = [f for f in per_ecg[-1] if f not in first and not f.startswith("heart rate")]
    gone = [f for f in per_ecg[0] if f not in last and not f.startswith("heart rate")]
    if not new and not gone:
        lines.append(f"No change in {word} between the first and the last ECG.")
    else:
        if new:
            lines.append(f"New in the last ECG: {', '.join(new)}.")
        if gone:
            lines.append(f"No longer present: {', '.join(gone)}.")
    return " ".join(lines)


def group_samples(group: Sequence[Unit], *, source: str, same_patient: bool, seed: int,
                  max_questions: int = 3) -> list[Sample]:
    """Up to `max_questions` samples for one group: the overall comparison and aspects with findings."""
    gid = "+".join(u.key for u in group)
    rng: np.random.Generator = rng_for(seed, "multiecg", source, gid)
    aspects = [a for a in ("rhythm", "rate", "conduction", "ectopy", "st")
               if any(_findings(u, a) for u in group)]
    chosen = ["overall"] + [aspects[i] for i in sorted(rng.permutation(len(aspects))[:max_questions - 1])]
    gaps = gaps_phrase(group)
    refs = tuple(ECGRef(u.ref) for u in group)
    out = []
    for aspect in chosen:
        templates = MULTIECG[aspect]
        question = templates[int(rng.integers(len(templates)))].format(gaps=gaps)
        meta = {"aspect": aspect, "records": [u.key for u in group], "same_patient": same_patient,
                "patient": group[0].patient if same_patient else None,
                "times": [u.time for u in group], "labels": [list(u.labels) for u in group],
                "durations_s": [u.extra.get("duration_s") for u in group]}
        out.append(Sample(f"{source}-multi-{gid}-{aspect}", "multiecg", source, group[0].split, refs,
                          qa(question, answer_for(group, aspect), len(refs)), meta))
    return out
