"""Localization labels: WFDB descriptions, the paper's interval rule, the answer text and IoU.

The one module for these facts; data building, evaluation and the baseline all call it.

- `beat_intervals` is the paper's rule, reproduced exactly on the 200 official MIT-BIH record 100 test rows
  (tests/test_intervals_official.py): for each target beat at sample t with start <= t < end, the interval runs
  from the previous beat annotation to the next beat annotation, in seconds from the window start, clipped to
  the window; intervals that overlap or touch are merged; the ends are rounded half-to-even (`np.round`) to
  0.1 s (after merging). Two details the official rows cannot decide (all 8 combinations with rounding order
  give 200/200; record 100 has one non-beat annotation, at sample 18, and no two close target beats):
  neighbours are beat annotations only (a '+' rhythm change or '~' noise mark is no beat), and touching
  intervals merge (none of the 631 positive answers in the six published lists has two touching intervals).
  A target beat just before the window counts too when its interval to the next beat reaches into the window
  (the next beat lies after the window start): its interval is [0, next]. The published MIT-BIH ST answers need
  it (3 of the 60 for record 300); the 200 record-100 answers stay exact with it.
- Answers read `Duration: 1.9s-3.1s, 6.8s-8.1s` or `No {description} Found`.
- `interval_iou` is the official IoU (sum of pairwise overlaps / length of the union of all intervals), computed
  after merging each set so that it stays in [0, 1] for predictions with overlapping intervals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence
from functools import lru_cache

import numpy as np

from anyecg.errors import AnswerFormatError
from anyecg.io.record import Event
from anyecg.timebase import to_seconds
from anyecg.vocabulary import MITBIH_RHYTHMS

Interval = tuple[float, float]

# WFDB beat (QRS) annotation symbols (PhysioNet ecgcodes `isqrs`); all others are non-beat annotations.
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")

# Where wfdb-python's wording differs from the WFDB/PhysioNet annotation table, which the paper's answers use
# ('No Atrial premature beat Found', 'No Supraventricular premature or ectopic beat (atrial or nodal) Found').
_PHYSIONET_BEAT_DESCRIPTIONS = {
    "A": "Atrial premature beat",
    "S": "Supraventricular premature or ectopic beat (atrial or nodal)",
    "B": "Bundle branch block beat (unspecified)",
    "n": "Supraventricular escape beat (atrial or nodal)",
    "?": "Beat not classified during learning",
}

# Rhythm labels (WFDB aux notes on '+' annotations) → names, from the project's one vocabulary.
RHYTHM_DESCRIPTIONS: dict[str, str] = MITBIH_RHYTHMS

# ST / T episodes (European ST-T, MIT-BIH ST, Long-Term ST aux notes such as '(ST0+', '(st1-', '(T0-').
_EPISODE_RE = re.compile(r"^\(?(ST|T)(\d+)([+-])\)?$", re.IGNORECASE)
_EPISODE_WORDS = {("ST", "+"): "ST elevation", ("ST", "-"): "ST depression",
                  ("T", "+"): "T wave elevation", ("T", "-"): "T wave depression"}

_NUM = r"(\d+(?:\.\d*)?|\.\d+)"
_INTERVAL_RE = re.compile(rf"^{_NUM}\s*s?\s*(?:-|–|—|to)\s*{_NUM}\s*s?$", re.IGNORECASE)
_NEGATIVE_RE = re.compile(r"^no\b.*\bfound\W*$", re.IGNORECASE | re.DOTALL)
_PREFIX_RE = re.compile(r"^duration\s*:?\s*", re.IGNORECASE)


@lru_cache(maxsize=1)
def _wfdb_descriptions() -> dict[str, str]:
    from wfdb.io.annotation import ann_labels  # lazy: wfdb is slow to import

    return {label.symbol: label.description for label in ann_labels} | _PHYSIONET_BEAT_DESCRIPTIONS


def describe(symbol: str) -> str:
    """Human description of a WFDB beat symbol ('V'), a rhythm label ('(AFIB') or an ST episode ('(ST0+').

    Beat symbols use the WFDB annotation table (wfdb-python's, with the PhysioNet wording the paper's answers
    use for A, S, B, n, ?). Raises KeyError when unknown.
    """
    wfdb_table = _wfdb_descriptions()
    if symbol in wfdb_table:
        return wfdb_table[symbol]
    rhythm = symbol if symbol.startswith("(") else f"({symbol}"
    if rhythm.upper() in RHYTHM_DESCRIPTIONS:
        return RHYTHM_DESCRIPTIONS[rhythm.upper()]
    match = _EPISODE_RE.match(symbol.strip())
    if match:
        kind, lead, sign = match.groups()
        return f"{_EPISODE_WORDS[(kind.upper(), sign)]} (lead {lead})"
    raise KeyError(f"no description for annotation label {symbol!r}")


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge intervals that overlap or touch."""
    merged: list[list[float]] = []
    for start, end in sorted((min(a, b), max(a, b)) for a, b in intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _round(intervals: Iterable[Interval]) -> list[Interval]:
    return [(float(np.round(a, 1)), float(np.round(b, 1))) for a, b in intervals]


def beat_intervals(
    sample: Sequence[int] | np.ndarray,
    symbol: Sequence[str],
    target: str | Collection[str],
    start: int,
    end: int,
    fs: float,
) -> list[Interval]:
    """The paper's localization rule for beats of type `target` in the window [start, end) (samples).

    `sample`/`symbol` are the record's annotations in whole-recording sample indices (all annotations; non-beat
    ones are skipped here). Returns merged (start_s, end_s) intervals in seconds from the window start,
    rounded to 0.1 s; [] when no target beat lies in the window.
    """
    targets = {target} if isinstance(target, str) else set(target)
    beats = [i for i, s in enumerate(symbol) if s in BEAT_SYMBOLS]
    pos = np.asarray(sample, dtype=np.int64)[beats]
    syms = [symbol[i] for i in beats]
    duration = to_seconds(end - start, fs)
    raw: list[Interval] = []
    for k, t in enumerate(pos):
        before = t < start and k + 1 < len(pos) and pos[k + 1] > start  # reaches into the window
        if syms[k] not in targets or not (start <= t < end or before):
            continue
        prev = pos[k - 1] if k > 0 else start
        nxt = pos[k + 1] if k + 1 < len(pos) else end
        raw.append((min(max(to_seconds(prev - start, fs), 0.0), duration),
                    min(max(to_seconds(nxt - start, fs), 0.0), duration)))
    return [(a, b) for a, b in _round(merge_intervals(raw)) if b > a]


def _episode_key(label: str) -> str:
    return label.strip().strip("()").upper()


def episode_intervals(
    events: Iterable[Event], label: str | Collection[str], start_s: float, end_s: float
) -> list[Interval]:
    """Rhythm / ST episodes with this label inside the window [start_s, end_s) (seconds from recording start).

    Labels match ignoring parentheses and case ('(AFIB' == 'AFIB'). Returns merged intervals in seconds from
    the window start, clipped to the window, rounded to 0.1 s.
    """
    keys = {_episode_key(label)} if isinstance(label, str) else {_episode_key(x) for x in label}
    raw = [(max(ev.start_s, start_s) - start_s, min(ev.end_s, end_s) - start_s)
           for ev in events
           if _episode_key(ev.label) in keys and ev.end_s > start_s and ev.start_s < end_s]
    return _round(merge_intervals(raw))


ANSWER_PREFIX = "Duration:"  # how a localization answer that found something begins


def format_answer(intervals: Sequence[Interval], description: str) -> str:
    """`Duration: 1.9s-3.1s, 6.8s-8.1s`, or `No {description} Found` for no interval."""
    if not intervals:
        return f"No {description} Found"
    return f"{ANSWER_PREFIX} " + ", ".join(f"{a:.1f}s-{b:.1f}s" for a, b in _round(intervals))


def join_answers(parts: Sequence[tuple[float, str]], description: str) -> str | None:
    """Answers about consecutive pieces of a window, (piece start in window seconds, answer text), as one answer
    about the whole window (intervals shifted and merged); None when a piece's answer cannot be parsed."""
    found: list[Interval] = []
    for offset, text in parts:
        try:
            found += [(offset + a, offset + b) for a, b in parse_answer(text)]
        except AnswerFormatError:
            return None
    return format_answer(merge_intervals(found), description)


def parse_answer(text: str) -> list[Interval]:
    """Intervals in an answer, sorted by start; [] for `No ... Found`. Raises `AnswerFormatError`.

    Tolerant of spaces, interval order, a missing 's', reversed ends, ';' separators and a trailing period.
    """
    stripped = text.strip()
    if _NEGATIVE_RE.match(stripped):
        return []
    body = _PREFIX_RE.sub("", stripped).rstrip(". ")
    parts = [p.strip() for p in re.split(r"[,;]|\band\b", body)]
    out: list[Interval] = []
    for part in parts:
        match = _INTERVAL_RE.match(part)
        if not match:
            raise AnswerFormatError(f"cannot read interval {part!r} in answer {text!r}; "
                                    "expected 'Duration: 1.9s-3.1s, ...' or 'No ... Found'")
        a, b = float(match.group(1)), float(match.group(2))
        out.append((min(a, b), max(a, b)))
    return sorted(out)


def _length(intervals: Iterable[Interval]) -> float:
    return sum(b - a for a, b in intervals)


def interval_iou(truth: Sequence[Interval], pred: Sequence[Interval]) -> float:
    """Official IoU: sum of pairwise overlaps / length of the union of all intervals (continuous seconds).

    Each set is merged first (the official code does not; identical whenever a set has no overlapping
    intervals, as every label set has), so the value stays in [0, 1]. Both empty → 1.0; a zero-length union
    with something predicted → 0.0.
    """
    a, b = merge_intervals(truth), merge_intervals(pred)
    if not a and not b:
        return 1.0
    union = _length(merge_intervals(a + b))
    if union <= 0:
        return 0.0
    inter = sum(max(0.0, min(x1, y1) - max(x0, y0)) for x0, x1 in a for y0, y1 in b)
    return inter / union


def answer_iou(truth_text: str, pred_text: str, exact_shortcut: bool = True) -> float:
    """IoU between two answer texts.

    Default (`exact_shortcut=True`, the official protocol): identical strings → 1.0; an unparseable text → 0.0;
    both negative in different wording → 0.0 (the official code cannot parse `No ... Found`, so only the exact
    string scores); otherwise `interval_iou`.

    Strict (`exact_shortcut=False`): no credit from string equality, and a both-negative pair scores NaN —
    there is nothing to localize, so it is excluded from the mean (use `np.nanmean`); report the accuracy on
    negative windows separately. Otherwise the same as the default (unparseable → 0.0, one side empty → 0.0).
    """
    if exact_shortcut and truth_text.strip() == pred_text.strip():
        return 1.0
    try:
        truth, pred = parse_answer(truth_text), parse_answer(pred_text)
    except AnswerFormatError:
        return 0.0
    if not truth and not pred:
        return 0.0 if exact_shortcut else math.nan
    return interval_iou(truth, pred)
