"""Who answers the question set: the chat model (`ECGChat`), the base LLM without the ECG, and a findings-only
answerer (each question type answered from `read_findings` by a fixed template, no LLM: the ceiling a
findings-grounded model can copy). Each has `name` and `predict(samples, mask_leads=None) -> list[str]`, so that
`anyecg.eval.runner.run_predictions` caches and resumes their answers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from anyecg.eval.samples import EvalSample
from anyecg.findings.answers import FindingsCache, findings_answer

log = logging.getLogger(__name__)


def question_text(sample: EvalSample) -> str:
    """The sample's last user turn without its `<ecg>` placeholders."""
    return sample.prompt[-1]["content"].replace("<ecg>", "").strip()


# ---- findings-only ---------------------------------------------------------------------------------------
class FindingsAnswerer:
    """`anyecg.findings.answers.findings_answer` on the read of each ECG of a question."""

    name = "findings-only"

    def __init__(self, cache: FindingsCache):
        self.cache = cache

    def predict(self, samples: Sequence[EvalSample], mask_leads=None) -> list[str]:
        return [findings_answer(s.meta["qtype"], s.meta["truth"],
                                [self.cache.get(r.path, r.start_s, r.end_s) for r in s.ecgs]) for s in samples]


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

    def __init__(self, model: str, max_new_tokens: int = 64, device: str = "cpu", verify: bool = True):
        from anyecg.chat import ECGChat

        self.chat = ECGChat.load(None if model == "embedded" else model, device=device,
                                 max_new_tokens=max_new_tokens, verify=verify)
        self.name = ("embedded release" if model == "embedded" else Path(model).name) + \
            ("" if verify else " (greedy, unverified)")

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
