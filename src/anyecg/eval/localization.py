"""Localization evaluation: official IoU and its stricter companions, per abnormal type, per window kind.

Per sample (all through `anyecg.signal.intervals.answer_iou`):
- `iou`: the official definition (identical strings → 1, parse failure → 0, both `No ... Found` → 1);
- `strict`: no string shortcut; both-negative pairs are excluded (NaN) instead of scoring 1;
- `valid`: the prediction parses as an answer; `pred_neg` / `truth_neg`: `No ... Found` answers.
Per group: mean official IoU, strict IoU, IoU on positive windows only, share of negatives, accuracy on
positive windows (something localized) and negative windows (`No ... Found`), format-valid rate; macro
(mean over types) and micro (over samples). Groups are (dataset, window kind: `10s` or `10-60s`).
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from anyecg.errors import AnswerFormatError
from anyecg.eval.samples import EvalSample
from anyecg.signal.intervals import answer_iou, parse_answer

MASK_MODES = ("none", "first", "second", "random")
METRICS = ("iou", "strict", "iou_pos", "neg_share", "pos_acc", "neg_acc", "valid")


@dataclass(frozen=True)
class LocScore:
    """Scores of one answered localization sample."""

    id: str
    dataset: str
    window: str
    abnormal_type: str
    truth: str
    prediction: str
    iou: float
    strict: float
    valid: bool
    truth_neg: bool
    pred_neg: bool


def window_kind(duration_s: float) -> str:
    """`10s` for the paper's short windows, `10-60s` for its long ones (official lists: by file, meta)."""
    return "10s" if duration_s <= 10.05 else "10-60s"


def score_sample(sample: EvalSample, prediction: str) -> LocScore:
    try:
        pred_neg, valid = not parse_answer(prediction), True
    except AnswerFormatError:
        pred_neg, valid = False, False
    window = {"long": "10-60s"}.get(sample.meta.get("window", ""), sample.meta.get("window")) \
        or window_kind(sample.duration_s)
    return LocScore(sample.id, sample.dataset, window, sample.abnormal_type,
                    sample.truth, prediction, answer_iou(sample.truth, prediction),
                    answer_iou(sample.truth, prediction, exact_shortcut=False), valid, sample.is_negative,
                    pred_neg)


def _mean(values: Sequence[float]) -> float:
    vals = [v for v in values if not math.isnan(v)]
    return float(np.mean(vals)) if vals else math.nan


def summarize(scores: Sequence[LocScore]) -> dict[str, float]:
    """The metrics of `METRICS` over a set of scored samples (NaN where undefined), plus the count `n`."""
    pos = [s for s in scores if not s.truth_neg]
    neg = [s for s in scores if s.truth_neg]
    return {
        "n": len(scores),
        "iou": _mean([s.iou for s in scores]),
        "strict": _mean([s.strict for s in scores]),
        "iou_pos": _mean([s.iou for s in pos]),
        "neg_share": len(neg) / len(scores) if scores else math.nan,
        "pos_acc": _mean([float(s.valid and not s.pred_neg) for s in pos]),
        "neg_acc": _mean([float(s.pred_neg) for s in neg]),
        "valid": _mean([float(s.valid) for s in scores]),
    }


def group_table(scores: Sequence[LocScore]) -> dict[str, dict]:
    """{group: {"types": {type: metrics}, "macro": metrics, "micro": metrics}} with group `dataset/window`."""
    groups: dict[str, list[LocScore]] = {}
    for s in scores:
        groups.setdefault(f"{s.dataset}/{s.window}", []).append(s)
    out = {}
    for key, members in sorted(groups.items()):
        by_type: dict[str, list[LocScore]] = {}
        for s in members:
            by_type.setdefault(s.abnormal_type, []).append(s)
        types = {t: summarize(v) for t, v in sorted(by_type.items())}
        macro = {m: _mean([types[t][m] for t in types]) for m in METRICS}
        macro["n"] = len(members)
        out[key] = {"types": types, "macro": macro, "micro": summarize(members)}
    return out


def score_all(samples: Sequence[EvalSample], predictions: dict[str, str]) -> list[LocScore]:
    return [score_sample(s, predictions[s.id]) for s in samples if s.id in predictions]


def as_rows(scores: Sequence[LocScore]) -> list[dict]:
    return [asdict(s) for s in scores]


def mask_plan(samples: Sequence[EvalSample], mode: str, lead_names: dict[str, tuple[str, ...]],
              seed: int = 0) -> dict[str, tuple[str, ...]]:
    """Lead to zero per sample id for an ablation (`first`, `second`, `random` non-zero lead).

    `lead_names[id]` are the sample's leads that carry signal; samples with fewer than two are left out
    (the official code skips them too), so the result's keys are the samples the ablation scores.
    """
    if mode not in MASK_MODES[1:]:
        raise ValueError(f"mask mode must be one of {MASK_MODES[1:]}, got {mode!r}")
    plan = {}
    for s in samples:
        leads = lead_names.get(s.id, ())
        if len(leads) < 2:
            continue
        if mode == "first":
            plan[s.id] = (leads[0],)
        elif mode == "second":
            plan[s.id] = (leads[1],)
        else:
            rng = random.Random(seed ^ zlib.crc32(s.id.encode()))
            plan[s.id] = (rng.choice(leads),)
    return plan


def sample_leads(samples: Sequence[EvalSample]) -> dict[str, tuple[str, ...]]:
    """The leads each sample's first ECG carries: its `leads` selection, else the file's leads."""
    from anyecg.io import read_info

    cache: dict[str, tuple[str, ...]] = {}
    out = {}
    for s in samples:
        ref = s.ecgs[0]
        if ref.leads:
            out[s.id] = tuple(ref.leads)
            continue
        key = str(ref.path)
        if key not in cache:
            cache[key] = tuple(read_info(ref.path).leads)
        out[s.id] = cache[key]
    return out
