"""Optional rewrite of MultiECG question/answer pairs through any OpenAI-compatible chat endpoint.

Each call is cached on disk by a hash of (model, prompt), so an interrupted build resumes without paying twice and
a rebuild with the same cache is byte-identical. A failed or unusable reply keeps the deterministic text.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path

from anyecg.atomic import write_atomic
from anyecg.data.schema import Sample, qa
from anyecg.prompts import ECG_PLACEHOLDER

PROMPT = (
    "Rewrite this question and answer about a patient's serial ECGs in the natural style of a cardiologist. "
    "Keep every finding, number and time gap; add nothing that is not stated. Reply with JSON only: "
    '{{"question": "...", "answer": "..."}}\n\nQuestion: {question}\nAnswer: {answer}'
)


def _cached_call(url: str, model: str, prompt: str, cache_dir: Path, timeout: float) -> str | None:
    key = hashlib.sha256(f"{model}\x1f{prompt}".encode()).hexdigest()
    path = cache_dir / f"{key[:2]}/{key}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))["content"]
    body = json.dumps({"model": model, "temperature": 0,
                       "messages": [{"role": "user", "content": prompt}]}).encode()
    request = urllib.request.Request(url.rstrip("/") + "/chat/completions", body,
                                     {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            content = json.loads(reply.read())["choices"][0]["message"]["content"]
    except (urllib.error.URLError, OSError, ValueError, KeyError, IndexError):
        return None
    write_atomic(path, json.dumps({"content": content}, ensure_ascii=False))
    return content


def rewrite(sample: Sample, url: str, model: str, cache_dir: Path, timeout: float = 120.0) -> Sample | None:
    """The sample with its question and answer rewritten, or None when the endpoint gave nothing usable."""
    question = sample.question.replace(ECG_PLACEHOLDER + "\n", "").strip()
    content = _cached_call(url, model, PROMPT.format(question=question, answer=sample.answer), cache_dir, timeout)
    if content is None:
        return None
    text = content.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        reply = json.loads(text)
        new_q, new_a = str(reply["question"]).strip(), str(reply["answer"]).strip()
    except (ValueError, KeyError, TypeError):
        return None
    if not new_q or not new_a:
        return None
    meta = {**sample.meta, "rewritten_by": model, "original_question": question, "original_answer": sample.answer}
    return Sample(sample.id, sample.task, sample.dataset, sample.split, sample.ecgs,
                  qa(new_q, new_a, len(sample.ecgs)), meta)
