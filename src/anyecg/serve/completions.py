"""`POST /v1/chat/completions`: OpenAI messages with ECG content parts → `ECGChat`, plain or streamed (SSE).

ECG parts may sit in any user turn; the model was trained with every ECG at the start of the first user turn,
so they are moved there in order. System/developer text is put before the first user turn's text. When the
question has one ECG and the answer reads as a localization (`Duration: 1.9s-3.1s` / `No ... Found`), the
message and the choice carry `localization`: the intervals in seconds from the ECG window start, from the
recording start and as clock time.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from anyecg.chat import ECG, ECGChat, Prepared, answer_findings, prepare
from anyecg.errors import AnyECGError
from anyecg.io import read_info
from anyecg.prompts import ecgs_first, without_placeholders
from anyecg.serve.errors import APIError, from_anyecg, unreadable
from anyecg.serve.schemas import ChatRequest, ECGFile, ECGPart, TextPart
from anyecg.serve.settings import ServeSettings
from anyecg.serve.store import FileStore, resolve_ecg
from anyecg.timebase import MAX_WINDOW_S


@dataclass
class ChatTurns:
    """What the model is asked: the ECGs (in order), the earlier turns and the last question."""

    ecgs: list[ECGFile]
    history: list[dict[str, str]]
    question: str


def _text(content: str | Sequence[TextPart | ECGPart] | None) -> str:
    if content is None or isinstance(content, str):
        return without_placeholders(content or "")
    return without_placeholders("\n".join(p.text for p in content if isinstance(p, TextPart))).strip()


def parse_messages(req: ChatRequest) -> ChatTurns:
    """OpenAI messages → ECGs, history and question; 400 naming the problem when they do not fit."""
    system = [_text(m.content) for m in req.messages if m.role in ("system", "developer")]
    turns: list[dict[str, str]] = []
    ecgs: list[ECGFile] = []
    for k, m in enumerate(req.messages):
        if m.role in ("system", "developer"):
            continue
        if isinstance(m.content, list):
            found = [p.ecg_file for p in m.content if isinstance(p, ECGPart)]
            if found and m.role != "user":
                raise APIError(400, f"messages[{k}]: ECGs can only be attached to user messages")
            ecgs += found
        if m.role == "assistant" and m.content is None:
            raise APIError(400, f"messages[{k}]: an assistant message needs content")
        turns.append({"role": m.role, "content": _text(m.content)})
    if not turns or turns[-1]["role"] != "user":
        raise APIError(400, "the last message must be a user message (the question)")
    if turns[0]["role"] != "user":
        raise APIError(400, "the first message after system messages must be a user message")
    if system:
        turns[0]["content"] = "\n".join([*system, turns[0]["content"]]).strip()
    if len(turns) > 1 and ecgs:
        turns[0]["content"] = ecgs_first(turns[0]["content"], len(ecgs))
    return ChatTurns(ecgs, turns[:-1], turns[-1]["content"])


def localization(text: str, prepared: Sequence[Prepared]) -> dict[str, Any] | None:
    """The answer's intervals on the one ECG asked about; None when the answer is not a localization."""
    found = answer_findings(text, prepared[0]) if len(prepared) == 1 else None
    if found is None:
        return None
    return {"ecg_index": 0, "window_start_s": round(prepared[0].input.start_s, 3),
            "intervals": [f.to_dict() for f in found]}


def window_span(ecg: ECG) -> float:
    """Seconds of the window an `ECG` asks about, from the file's header."""
    info = read_info(ecg.source, lead_map=ecg.lead_map, fs=ecg.fs)
    end = info.duration_s if ecg.end_s is None else min(ecg.end_s, info.duration_s)
    return end - (ecg.start_s or 0.0)


class Completions:
    """The chat endpoint's work, apart from routing (so tests and the benchmark can call it directly)."""

    def __init__(self, chat: ECGChat, settings: ServeSettings, store: FileStore):
        self.chat, self.settings, self.store = chat, settings, store

    def prepare(self, turns: ChatTurns, folder: Path) -> list[Prepared]:
        """Each ECG read and preprocessed; errors name the ECG by its position (`ecg 2: ...`)."""
        out = []
        for k, spec in enumerate(turns.ecgs):
            try:
                ecg = resolve_ecg(spec, self.store, folder, f"ecg {k + 1}")
                span = window_span(ecg)
                if span > MAX_WINDOW_S:  # the model's memory grows with the window: checked before reading it
                    raise APIError(422, f"ecg {k + 1}: the window is {span:.0f} s long; ask about at most "
                                   f"{MAX_WINDOW_S:g} s (start_s/end_s), or scan the recording with /v1/ecg/scan",
                                   "invalid_window")
                out.append(prepare(ecg))
            except AnyECGError as err:
                api = from_anyecg(err)
                raise APIError(api.status, f"ecg {k + 1}: {api.message}", api.code) from err
            except (ArithmeticError, ValueError, TypeError, IndexError, KeyError, OSError) as err:
                api = unreadable(err)
                raise APIError(api.status, f"ecg {k + 1}: {api.message}", api.code) from err
        return out

    def sampling(self, req: ChatRequest, deadline: float) -> dict[str, Any]:
        wanted = req.max_completion_tokens or req.max_tokens or self.settings.max_tokens
        out: dict[str, Any] = {"max_new_tokens": min(wanted, self.settings.max_tokens),
                               "max_time": max(0.05, deadline - time.monotonic())}
        if req.temperature:
            out.update(do_sample=True, temperature=req.temperature, top_p=req.top_p or 1.0)
        return out

    def envelope(self, req: ChatRequest, kind: str) -> dict[str, Any]:
        return {"id": f"chatcmpl-{secrets.token_hex(12)}", "object": kind, "created": int(time.time()),
                "model": req.model or self.settings.model_name}

    def finish_reason(self, text: str, max_new_tokens: int) -> str:
        n = len(self.chat.processor.tokenizer(text, add_special_tokens=False)["input_ids"])
        return "length" if n >= max_new_tokens else "stop"

    async def answer(self, req: ChatRequest, turns: ChatTurns, prepared: list[Prepared],
                     deadline: float) -> dict[str, Any]:
        sampling = self.sampling(req, deadline)
        try:
            text, replaced = (await run_in_threadpool(self.chat.answer_questions, [(prepared, turns.question)],
                                                      turns.history, **sampling))[0]
        except AnyECGError as err:
            raise from_anyecg(err) from err
        if time.monotonic() >= deadline:
            raise APIError(504, f"the answer was not finished within the {self.settings.timeout_s:g} s request "
                           "timeout", "timeout")
        checks = await run_in_threadpool(self.chat.check, text, prepared, turns.question)
        message: dict[str, Any] = {"role": "assistant", "content": text, "checks": [c.to_dict() for c in checks]}
        if replaced is not None:  # the model's first answer, which the signal contradicted (`ECGChat.verified`)
            message["replaced"] = replaced
        loc = localization(text, prepared)
        choice: dict[str, Any] = {"index": 0, "message": message,
                                  "finish_reason": self.finish_reason(text, sampling["max_new_tokens"])}
        if loc is not None:
            message["localization"] = choice["localization"] = loc
        return {**self.envelope(req, "chat.completion"), "choices": [choice]}

    async def stream(self, req: ChatRequest, turns: ChatTurns, prepared: list[Prepared],
                     deadline: float) -> AsyncIterator[str]:
        """Server-sent events in OpenAI's chunk format, ending with `data: [DONE]`."""
        head = self.envelope(req, "chat.completion.chunk")
        sampling = self.sampling(req, deadline)

        def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish, **extra}
            return f"data: {json.dumps({**head, 'choices': [choice]})}\n\n"

        yield event({"role": "assistant", "content": ""})
        parts: list[str] = []
        replaced = None
        try:
            if self.chat.verify:  # the answer comes whole, once verified against the read (`ECGChat.verified`)
                whole, replaced = (await run_in_threadpool(self.chat.answer_questions, [(prepared, turns.question)],
                                                           turns.history, **sampling))[0]
                parts.append(whole)
                yield event({"content": whole})
            else:
                pieces = self.chat.stream_prepared(prepared, turns.question, turns.history, **sampling)
                async for piece in iterate_in_threadpool(pieces):
                    if piece:
                        parts.append(piece)
                        yield event({"content": piece})
        except AnyECGError as err:
            yield f"data: {json.dumps(from_anyecg(err).body())}\n\n"
            yield "data: [DONE]\n\n"
            return
        text = "".join(parts).strip()
        loc = localization(text, prepared)
        finish = self.finish_reason(text, sampling["max_new_tokens"])
        checks = await run_in_threadpool(self.chat.check, text, prepared, turns.question)
        extra = {"localization": loc} if loc is not None else {}
        if replaced is not None:
            extra["replaced"] = replaced
        yield event({}, finish, checks=[c.to_dict() for c in checks], **extra)
        yield "data: [DONE]\n\n"
