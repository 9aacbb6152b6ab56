"""Who answers the question set: the chat model (`ECGChat`), the base LLM without the ECG, and a findings-only
answerer (each question type answered from `read_findings` by a fixed template, no LLM: the ceiling a
findings-grounded model can copy). Each has `name` and `predict(samples, mask_leads=None) -> list[str]`, so that
`anyecg.eval.runner.run_predictions` caches and resumes their answers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from anyecg.data.questions import yes_no_answer
from anyecg.eval.samples import EvalRef, EvalSample
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


def question_text(sample: EvalSample) -> str:
    """The sample's last user turn without its `<ecg>` placeholders."""
    return sample.prompt[-1]["content"].replace("<ecg>", "").strip()


class FindingsCache:
    """`read_findings` once per ECG reference (path and window). A machine read that fails (a bug: it should
    never raise) is logged, counted in `failed` and stands as findings without beats or measurements, so that one
    ECG does not stop an evaluation."""

    def __init__(self) -> None:
        self._cache: dict[tuple, ECGFindings] = {}
        self.failed: list[str] = []

    def get(self, ref: EvalRef) -> ECGFindings:
        key = (str(ref.path), ref.start_s, ref.end_s)
        if key not in self._cache:
            record = read_window(ref.path, start_s=ref.start_s, end_s=ref.end_s)
            try:
                self._cache[key] = read_findings(record, start_s=ref.start_s, end_s=ref.end_s)
            except Exception as err:
                where = f"{ref.path} [{ref.start_s}-{ref.end_s}]"
                log.warning("read_findings failed on %s: %s: %s", where, type(err).__name__, err)
                self.failed.append(f"{where}: {type(err).__name__}: {err}")
                i0, i1, start = window_samples(record, ref.start_s, ref.end_s)
                self._cache[key] = ECGFindings(str(ref.path), record.fs, start, (i1 - i0) / record.fs,
                                               record.leads, notes=(f"machine read failed: {err}",))
        return self._cache[key]


# ---- findings-only ---------------------------------------------------------------------------------------
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


class FindingsAnswerer:
    name = "findings-only"

    def __init__(self, cache: FindingsCache):
        self.cache = cache

    def predict(self, samples: Sequence[EvalSample], mask_leads=None) -> list[str]:
        return [findings_answer(s.meta["qtype"], s.meta["truth"], [self.cache.get(r) for r in s.ecgs])
                for s in samples]


# ---- the base LLM without the ECG ------------------------------------------------------------------------
class BaseLLMAnswerer:
    """The base SmolLM2 (the embedded GGUF) asked the same question with no ECG: greedy, its chat template."""

    def __init__(self, llm: str = "smollm2", max_new_tokens: int = 64):
        from anyecg.model.llm import load_llm

        self.model, self.tokenizer = load_llm(llm)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.max_new_tokens = max_new_tokens
        self.name = f"base {Path(llm).name} (no ECG)"

    def predict(self, samples: Sequence[EvalSample], mask_leads=None) -> list[str]:
        import torch

        prompts = [self.tokenizer.apply_chat_template([{"role": "user", "content": question_text(s)}],
                                                      tokenize=False, add_generation_prompt=True) for s in samples]
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            out = self.model.generate(**batch, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      pad_token_id=self.tokenizer.pad_token_id)
        new = out[:, batch["input_ids"].shape[1]:]
        return [t.strip() for t in self.tokenizer.batch_decode(new, skip_special_tokens=True)]


# ---- the chat model ----------------------------------------------------------------------------------------
class ChatAnswerer:
    """A chat model through `ECGChat.ask` (the embedded release for `embedded`)."""

    def __init__(self, model: str, max_new_tokens: int = 64, device: str = "cpu"):
        from anyecg.chat import ECGChat

        self.chat = ECGChat.load(None if model == "embedded" else model, device=device,
                                 max_new_tokens=max_new_tokens)
        self.name = "embedded release" if model == "embedded" else Path(model).name

    def predict(self, samples: Sequence[EvalSample], mask_leads=None) -> list[str]:
        from anyecg.chat import ECG

        out = []
        for s in samples:
            try:
                out.append(self.chat.ask([ECG(r.path, r.start_s, r.end_s) for r in s.ecgs], question_text(s)).text)
            except Exception as err:  # a failure of one question is a wrong answer, not a stopped evaluation
                log.warning("%s: ask failed on %s: %s: %s", self.name, s.id, type(err).__name__, err)
                out.append(f"(no answer: {type(err).__name__})")
        return out
