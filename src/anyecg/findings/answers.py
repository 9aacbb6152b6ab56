"""Answers from the machine read alone: each question type of the question set (`anyecg.data.questions`) answered
from `read_findings` by a fixed template, no LLM. The question set's findings-only answerer (the ceiling a
findings-grounded model can copy) and the training questions' read-consistent targets
(`anyecg.data.tasks.questions --targets read`) both answer this way, from the read `ECGChat` puts in the prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from anyecg.data.questions import yes_no_answer
from anyecg.findings.locate import target_intervals
from anyecg.findings.read import read_findings, read_window
from anyecg.findings.summary import (
    axis_word,
    ectopic_count,
    has_finding,
    is_irregular,
    present_findings,
    rate_change,
    rhythm_family,
)
from anyecg.findings.types import ECGFindings
from anyecg.signal.intervals import describe, format_answer
from anyecg.signal.preprocess import window_samples
from anyecg.vocabulary import FAMILY_NAME, lower

log = logging.getLogger(__name__)
INTERVAL_FIELD = {"pr": ("PR interval", "pr_ms"), "qrs": ("QRS duration", "qrs_ms"), "qt": ("QT interval", "qt_ms")}


class FindingsCache:
    """`read_findings` once per ECG reference (path and window). A machine read that fails (a bug: it should
    never raise) is logged, counted in `failed` and stands as findings without beats or measurements, so that one
    ECG does not stop an evaluation."""

    def __init__(self) -> None:
        self._cache: dict[tuple, ECGFindings] = {}
        self.failed: list[str] = []

    def get(self, path: str | Path, start_s: float | None = None, end_s: float | None = None) -> ECGFindings:
        key = (str(path), start_s, end_s)
        if key not in self._cache:
            record = read_window(path, start_s=start_s, end_s=end_s)
            try:
                self._cache[key] = read_findings(record, start_s=start_s, end_s=end_s)
            except Exception as err:
                where = f"{path} [{start_s}-{end_s}]"
                log.warning("read_findings failed on %s: %s: %s", where, type(err).__name__, err)
                self.failed.append(f"{where}: {type(err).__name__}: {err}")
                i0, i1, start = window_samples(record, start_s, end_s)
                self._cache[key] = ECGFindings(str(path), record.fs, start, (i1 - i0) / record.fs,
                                               record.leads, notes=(f"machine read failed: {err}",))
        return self._cache[key]


def findings_answer(qtype: str, truth: dict, fs: Sequence[ECGFindings]) -> str:
    """A fixed-template answer from the findings alone (the truth is read only for what is asked: the statement
    of a yes/no question, the beat type to localize)."""
    f = fs[0]
    m = f.measurements
    if qtype == "heart_rate":
        return f"The heart rate is {m.heart_rate_bpm:.0f} bpm." if m.heart_rate_bpm else "Unknown heart rate."
    if qtype == "rhythm":
        return FAMILY_NAME[rhythm_family(f)] + "."
    if qtype == "regularity":
        return f"The rhythm is {'irregular' if is_irregular(f) else 'regular'}."
    if qtype in ("af", "conduction", "ectopy"):
        return yes_no_answer(has_finding(f, truth["statement"]), truth["statement"])
    if qtype in INTERVAL_FIELD:
        label, field = INTERVAL_FIELD[qtype]
        value = getattr(m, field)
        return f"The {label} is {value:.0f} ms." if value is not None else f"The {label} cannot be measured."
    if qtype == "axis":
        a = m.qrs_axis_deg
        if a is None:
            return "The axis cannot be measured."
        return f"{axis_word(a)} (QRS axis {a:.0f}°)."
    if qtype == "ectopy_count":
        n = ectopic_count(f, truth["statement"])
        return "Cannot count the beats." if n is None else f"{n} {lower(truth['statement'])}s."
    if qtype == "localization":
        k = truth["abnormal_type"]
        intervals = target_intervals(f, k)
        return "Cannot locate it." if intervals is None else format_answer(intervals, describe(k))
    g = fs[1]
    if qtype == "compare_rhythm":
        a, b = rhythm_family(f), rhythm_family(g)
        return "No, the rhythm is unchanged." if a == b else \
            f"Yes: {lower(FAMILY_NAME[a])} in the first ECG, {lower(FAMILY_NAME[b])} in the second."
    if qtype == "compare_rate":
        ra, rb = m.heart_rate_bpm, g.measurements.heart_rate_bpm
        word = rate_change(ra, rb)
        if word is None:
            return "Cannot compare the rates."
        return f"{word.capitalize()}: {ra:.0f} bpm in the first ECG, {rb:.0f} bpm in the second."
    if qtype in ("compare_new", "compare_resolved"):
        first, second = present_findings(f), present_findings(g)
        names = sorted(second - first if qtype == "compare_new" else first - second)
        if not names:
            return "No finding changed."
        return f"{', '.join(names)} {'is new in' if qtype == 'compare_new' else 'is no longer present in'} " \
               "the second ECG."
    raise ValueError(f"unknown question type {qtype!r}")
