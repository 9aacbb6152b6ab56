"""MultiECG: LLM-as-judge scores 0-5 through any OpenAI-compatible endpoint (the paper's QwQ-32B protocol).

Two turns (template `judge_prompt.txt`, turns separated by a `---` line): the question, the reports of the
ECGs (`meta["reports"]`, a list of strings; the reference answer is not shown, as in the paper) and the
prediction; then "So what is the final score? ...". The score is the last number 0-5 in the second reply;
a reply without one is asked again (`retries`), then recorded as unscored.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from anyecg.errors import ModelError
from anyecg.eval.samples import EvalSample
from anyecg.prompts import without_placeholders

TEMPLATE = Path(__file__).with_name("judge_prompt.txt")
_SCORE = re.compile(r"(?<![\d.])([0-5](?:\.\d+)?)(?![\d.])")


def load_template(path: Path = TEMPLATE) -> tuple[str, str]:
    first, second = path.read_text().split("\n---\n")
    return first.strip(), second.strip()


def parse_score(text: str) -> float | None:
    """The last number in [0, 5] in a reply (reasoning models think aloud first), or None."""
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL)
    found = [float(m) for m in _SCORE.findall(text)]
    return found[-1] if found else None


def question_text(sample: EvalSample) -> str:
    return without_placeholders("\n".join(t["content"] for t in sample.prompt if t["role"] == "user")).strip()


class Judge:
    """Scores answers with a chat model behind `url` (OpenAI-compatible), `concurrency` requests in flight."""

    def __init__(self, url: str, model: str, *, temperature: float = 0.3, retries: int = 3,
                 concurrency: int = 4, timeout_s: float = 600.0, template: Path = TEMPLATE):
        import httpx

        self.url = url.rstrip("/")
        if not self.url.endswith("/chat/completions"):
            self.url += "/chat/completions" if self.url.endswith("/v1") else "/v1/chat/completions"
        self.model, self.temperature, self.retries, self.concurrency = model, temperature, retries, concurrency
        self.client = httpx.Client(timeout=timeout_s)
        self.turn1, self.turn2 = load_template(template)

    def _chat(self, messages: list[dict]) -> str:
        body = {"model": self.model, "messages": messages, "temperature": self.temperature}
        try:
            resp = self.client.post(self.url, json=body)
            resp.raise_for_status()
            return str(resp.json()["choices"][0]["message"]["content"])
        except Exception as err:
            raise ModelError(f"judge request failed: {err}", self.url) from err

    def score(self, sample: EvalSample, prediction: str) -> dict:
        """{"score": float | None, "replies": [...]} for one answer."""
        reports = sample.meta.get("reports", [])
        first = self.turn1.format(question=question_text(sample), labels=reports, prediction=prediction)
        replies: list[str] = []
        for _ in range(self.retries):
            messages = [{"role": "user", "content": first}]
            reply1 = self._chat(messages)
            messages += [{"role": "assistant", "content": reply1}, {"role": "user", "content": self.turn2}]
            reply2 = self._chat(messages)
            replies.append(reply2)
            score = parse_score(reply2)
            if score is not None:
                return {"score": score, "replies": replies}
        return {"score": None, "replies": replies}

    def score_all(self, samples: Sequence[EvalSample], predictions: dict[str, str]) -> list[dict]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            rows = list(pool.map(lambda s: self.score(s, predictions[s.id]), samples))
        return [{"id": s.id, "n_ecgs": len(s.ecgs), **r} for s, r in zip(samples, rows, strict=True)]


def summarize_scores(rows: Sequence[dict]) -> dict:
    """Mean score overall and by number of ECGs (Table 6), distribution of rounded scores, unscored count."""
    scored = [r for r in rows if r["score"] is not None]
    by_n: dict[str, list[float]] = {}
    for r in scored:
        by_n.setdefault(str(r["n_ecgs"]), []).append(r["score"])
    return {
        "n": len(rows), "unscored": len(rows) - len(scored),
        "mean": float(np.mean([r["score"] for r in scored])) if scored else float("nan"),
        "by_n_ecgs": {k: float(np.mean(v)) for k, v in sorted(by_n.items())},
        "distribution": dict(sorted(Counter(str(round(r["score"])) for r in scored).items())),
    }
