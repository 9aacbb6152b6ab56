"""Answers from the machine read alone: each question type of the question set (`anyecg.data.questions`) answered
from `read_findings` by a fixed template, no LLM. The question set's findings-only answerer (the ceiling a
findings-grounded model can copy) and the training questions' read-consistent targets
(`anyecg.data.tasks.questions --targets read`) both answer this way, from the read `ECGChat` puts in the prompt.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from anyecg.checks import Check, checked_ecg, stated_name
from anyecg.data.questions import yes_no_answer
from anyecg.data.tasks.report import report_answer
from anyecg.findings.locate import target_intervals
from anyecg.findings.read import read_findings, read_window
from anyecg.findings.summary import (
    ECTOPY_CLASS,
    INTERVAL_FIELD,
    axis_sentence,
    change_sentence,
    count_sentence,
    has_finding,
    interval_sentence,
    listing_sentence,
    named_statements,
    rate_change_sentence,
    rate_sentence,
    regularity_sentence,
    rhythm_change_sentence,
    rhythm_sentence,
)
from anyecg.findings.types import ECGFindings
from anyecg.signal.intervals import describe, format_answer
from anyecg.signal.preprocess import window_samples
from anyecg.vocabulary import RHYTHM_FAMILY, lower

log = logging.getLogger(__name__)


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
    if qtype == "heart_rate":
        return rate_sentence(f)
    if qtype == "rhythm":
        return rhythm_sentence(f)
    if qtype == "regularity":
        return regularity_sentence(f)
    if qtype in ("af", "conduction", "ectopy"):
        return yes_no_answer(has_finding(f, truth["statement"]), truth["statement"])
    if qtype in INTERVAL_FIELD:
        return interval_sentence(f, *INTERVAL_FIELD[qtype])
    if qtype == "axis":
        return axis_sentence(f)
    if qtype == "ectopy_count":
        return count_sentence(f, truth["statement"])
    if qtype == "localization":
        k = truth["abnormal_type"]
        intervals = target_intervals(f, k)
        return "Cannot locate it." if intervals is None else format_answer(intervals, describe(k))
    if qtype == "compare_rhythm":
        return rhythm_change_sentence(fs)
    if qtype == "compare_rate":
        return rate_change_sentence(fs)
    if qtype in ("compare_new", "compare_resolved"):
        return change_sentence(fs, qtype == "compare_new")
    raise ValueError(f"unknown question type {qtype!r}")


def read_beginning(wrong: Sequence[Check], fs: Sequence[ECGFindings], answer: str = "") -> str | None:
    """How the read itself would begin an answer whose claims it contradicts (`wrong`: the disagreeing checks, in
    the answer's order), whole (the model may end there or go on); None when it can word none. In order: for a
    question the answer leaves unanswered, the read's answer to it; where the `answer` lists its ECGs ("ECG 1:
    ..."), each ECG's statements up to the last one contradicted or left out; for a report that leaves out what
    the read finds, the read's report; else its sentence about the first claim it can word (a localization; a
    rate, an interval, the axis, a count, regularity, the rhythm; for several ECGs the rate change, the rhythm
    change, what is new or resolved)."""
    several = len(fs) > 1
    unanswered = next((c for c in wrong if c.kind == "unanswered"), None)
    if unanswered is not None:
        return unanswered.measured
    named = [k for c in wrong if c.kind in ("statement", "omission") and (k := checked_ecg(c)) is not None]
    if several and named and _LISTS_ECGS.match(answer.strip()):
        return listing_sentence(fs, max(named))
    if not several and any(c.kind == "omission" for c in wrong):
        return report_answer(named_statements(fs[0]))
    for c in wrong:
        if c.kind == "localization":
            return c.measured
        if several:
            if c.kind == "rate_change":
                sentence = rate_change_sentence(fs)
            elif c.kind == "comparison":
                new = "new" in c.stated if ("new" in c.stated) != ("gone" in c.stated) else "new in" in c.measured
                sentence = change_sentence(fs, new)
            elif c.kind == "statement" and stated_name(c) in RHYTHM_FAMILY:
                sentence = rhythm_change_sentence(fs)
            else:
                continue
        elif c.kind == "heart_rate":
            sentence = rate_sentence(fs[0])
        elif c.kind == "interval" and c.stated.split()[0].lower() in INTERVAL_FIELD:
            sentence = interval_sentence(fs[0], *INTERVAL_FIELD[c.stated.split()[0].lower()])
        elif c.kind == "axis":
            sentence = axis_sentence(fs[0])
        elif c.kind == "regularity":
            sentence = regularity_sentence(fs[0])
        elif c.kind == "count":
            name = next(n for n in ECTOPY_CLASS if lower(n) in c.measured.lower())
            sentence = count_sentence(fs[0], name)
        elif c.kind == "statement" and stated_name(c) in RHYTHM_FAMILY:
            sentence = rhythm_sentence(fs[0])
        else:
            continue
        return sentence
    return None


_LISTS_ECGS = re.compile(r"ECG \d+:")  # an answer that lists its ECGs: "ECG 1: ...; ECG 2: ..."
