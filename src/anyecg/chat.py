"""`ECGChat`: ask a trained anyECG-chat model about ECG files, from Python.

    from anyecg import ECGChat
    chat = ECGChat.load()                                  # the embedded default (SmolLM2-135M + our weights)
    chat.ask("mitdb/100", "Is the rhythm regular?").text
    chat.locate("holter.edf", "V", start_s=60, end_s=120).intervals
    conv = chat.conversation(["ecg_2019.xml", "ecg_2024.xml"]); conv.ask("What changed?"); conv.ask("And the rate?")

ECGs are given as a path, an `ECGRecord`, or an `ECG` (path/record + window + lead selection).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from anyecg import glossary
from anyecg.checks import (
    Check,
    check_answer,
    check_comparison,
    contradicts_itself,
    disagreements,
    lead_word,
    listing_omission_checks,
    localization_check,
    omission_checks,
    unanswered_check,
)
from anyecg.errors import AnswerFormatError, AnyECGError, ModelError, WindowError
from anyecg.findings.answers import read_beginning
from anyecg.findings.locate import read_intervals
from anyecg.findings.read import findings_of, read_window
from anyecg.findings.types import ECGFindings
from anyecg.io.record import ECGRecord
from anyecg.model.anyecg_chat import AnyECGChatModel
from anyecg.model.beats import screened_out
from anyecg.model.kinds import PreparedECG
from anyecg.model.llm import torch_device
from anyecg.model.loading import load_model
from anyecg.prompts import (
    LOCATE_QUESTION,
    REPORT_QUESTION,
    REPORT_SAMPLING,
    asks_nothing_of_the_ecg,
    ecgs_first,
    is_general_question,
    is_report_question,
    without_placeholders,
)
from anyecg.signal.intervals import (
    ANSWER_PREFIX,
    Interval,
    format_answer,
    join_answers,
    parse_answer,
)
from anyecg.signal.preprocess import ECGInput, preprocess
from anyecg.targets import Target, question_target, resolve_target
from anyecg.timebase import clock

EMBEDDED_DIR = Path(__file__).parent / "weights" / "embedded"
MAX_GLOSSARY_ENTRIES = 3  # a textbook question naming more terms gets the first three entries
MAX_ECGS = 6  # the paper's multi-ECG range is 2–6
MIN_SECONDS = 1.0  # shortest ECG the model is asked about (a 1 s strip)
VERIFY_BEAMS = 4  # the model's alternatives looked at when the signal contradicts its first answer


@dataclass(frozen=True)
class ECG:
    """One ECG to ask about: a file or a record, optionally a window (seconds) and a lead selection."""

    source: str | Path | ECGRecord
    start_s: float | None = None
    end_s: float | None = None
    leads: tuple[str, ...] | None = None
    lead_map: str | None = None
    fs: float | None = None
    mask_leads: tuple[str, ...] = ()  # leads zeroed after preprocessing (lead-masking ablation)


ECGSpec = str | Path | ECGRecord | ECG


@dataclass(frozen=True)
class Finding:
    """One localized interval: seconds from the window start, from the recording start, and as clock time."""

    start_s: float
    end_s: float
    abs_start_s: float
    abs_end_s: float
    clock_start: str
    clock_end: str

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Answer:
    """An answer and its checks: what it claims that the machine read of the ECG confirms or contradicts.
    `replaced`: the model's first (greedy) answer when the signal contradicted it and one of the model's
    alternatives agreed (`ECGChat.verified`: its own, or one the read began); None when the first answer stands."""

    text: str
    question: str
    n_ecgs: int
    checks: list[Check] = field(default_factory=list)
    replaced: str | None = None

    @property
    def flagged(self) -> list[Check]:
        """The claims the signal contradicts."""
        return disagreements(self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "question": self.question, "n_ecgs": self.n_ecgs,
                "checks": [c.to_dict() for c in self.checks], "replaced": self.replaced}


@dataclass
class Localization:
    """A located target: the model's text and the parsed intervals (empty for "No ... Found")."""

    target: Target
    text: str
    findings: list[Finding] = field(default_factory=list)
    valid: bool = True  # False when the text could not be parsed as an answer
    prescreened: bool = False  # answered "none" by the beat screen, without the LLM (`ECGChat.locate_prepared`)
    checks: list[Check] = field(default_factory=list)  # the answer against the machine read (`ECGChat.locate`)
    replaced: str | None = None  # the model's first answer, when verified decoding replaced it

    @property
    def intervals(self) -> list[Interval]:
        return [(f.start_s, f.end_s) for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target.key, "description": self.target.description, "text": self.text,
                "valid": self.valid, "prescreened": self.prescreened,
                "intervals": [f.to_dict() for f in self.findings], "checks": [c.to_dict() for c in self.checks],
                "replaced": self.replaced}


@dataclass(frozen=True)
class Prepared:
    """A preprocessed ECG plus what is needed to put its answers back on the recording's clock; `cache` holds
    what the model's encoder kind computes for it (`ECGChat.model_input`), once."""

    input: ECGInput
    start_time: dt.datetime | None
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _as_ecg(spec: ECGSpec) -> ECG:
    return spec if isinstance(spec, ECG) else ECG(spec)


def prepare(spec: ECGSpec) -> Prepared:
    """Read the window of the file (with the rhythm context `read_window` adds) and preprocess it; refuses ECGs
    shorter than MIN_SECONDS."""
    ecg = _as_ecg(spec)
    record = ecg.source if isinstance(ecg.source, ECGRecord) else read_window(
        ecg.source, lead_map=ecg.lead_map, fs=ecg.fs, start_s=ecg.start_s, end_s=ecg.end_s)
    x = preprocess(record, start_s=ecg.start_s, end_s=ecg.end_s, leads=ecg.leads, mask_leads=ecg.mask_leads)
    if x.duration_s < MIN_SECONDS:
        raise WindowError(f"the ECG window is {x.duration_s:.2f} s long; the model needs at least "
                          f"{MIN_SECONDS:g} s", record.source)
    return Prepared(x, record.start_time)


def clip_pieces(x: ECGInput) -> list[tuple[float, ECGInput]]:
    """(start in window seconds, clip) of the 10 s clips of a window that are long enough to ask about."""
    return [(c.start_s - x.start_s, c) for c in x.clip_inputs() if c.duration_s >= MIN_SECONDS]


def join_clip_answers(parts: Sequence[tuple[float, str]], description: str) -> str:
    """The clips' answers as one answer about the window; one that cannot be read leaves them joined by ' | '
    (which cannot be read either, so the whole answer counts as invalid)."""
    return join_answers(parts, description) or " | ".join(text for _, text in parts)


def _other_beginnings(text: str, wrong: Sequence[Check]) -> list[str]:
    """How else an answer that the read contradicts (`wrong`: its checks that disagree) may begin, searched after
    the model's own best answers: "Duration:" where the read locates what a localization answer did not, the other
    word of a yes/no answer."""
    located = next((c for c in wrong if c.kind == "localization"), None)
    if located is not None:
        missed = located.measured.startswith(ANSWER_PREFIX) and not text.strip().startswith(ANSWER_PREFIX)
        return [ANSWER_PREFIX] if missed else []
    lead = lead_word(text)
    return [("No" if lead == "yes" else "Yes")] if lead else []


def answer_findings(text: str, prepared: Prepared) -> list[Finding] | None:
    """A localization answer (`Duration: 1.9s-3.1s, ...` / `No ... Found`) as findings on the ECG it is about,
    intervals clipped to the window; None when the text is not a localization answer."""
    try:
        intervals = parse_answer(text)
    except AnswerFormatError:
        return None
    duration = prepared.input.duration_s
    return findings([(max(0.0, a), min(duration, b)) for a, b in intervals if b > a and a < duration], prepared)


def findings(intervals: Sequence[Interval], prepared: Prepared) -> list[Finding]:
    """Intervals in window seconds → also recording seconds and clock time (wall clock when known)."""
    out = []
    for a, b in intervals:
        abs_a, abs_b = prepared.input.start_s + a, prepared.input.start_s + b
        out.append(Finding(a, b, abs_a, abs_b, clock(abs_a, prepared.start_time), clock(abs_b, prepared.start_time)))
    return out


class ECGChat:
    """A loaded model plus the question/answer conventions. Thread-safe (one generation at a time)."""

    def __init__(self, model: AnyECGChatModel, max_new_tokens: int = 256, verify: bool = True):
        self.model = model
        self.processor = model.processor(share_encoder=True)
        self.max_new_tokens = max_new_tokens
        self.verify = verify
        self._base: tuple[Any, Any] | None = None  # the base LLM and tokenizer (`write_text`)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path | None = None, *, device: str = "cpu", max_new_tokens: int = 256,
             verify: bool = True) -> ECGChat:
        """The embedded default (None) or any checkpoint directory written by `anyecg train`. verify: answers are
        checked against the machine read of their ECG(s) and, where contradicted, replaced by the model's best
        alternative that agrees, its own or one the read begins (`verified`); False keeps the greedy answer
        (flagged by its checks)."""
        dev = torch_device(device)  # an unknown or missing device fails before the slow load
        path = Path(path).expanduser() if path is not None else EMBEDDED_DIR
        if not path.exists():
            raise ModelError("checkpoint not found" if path != EMBEDDED_DIR
                             else "the embedded weights are not installed with this package", path)
        return cls(load_model(path, dev), max_new_tokens=max_new_tokens, verify=verify)

    # ---- core ---------------------------------------------------------------------------------------------
    def _conversation(self, n_ecgs: int, question: str, history: Sequence[dict[str, str]]) -> list[dict[str, str]]:
        if not question or not question.strip():
            raise AnyECGError("the question is empty")
        if n_ecgs > MAX_ECGS:
            raise AnyECGError(f"{n_ecgs} ECGs given; at most {MAX_ECGS} ECGs fit in one question")
        turns = [dict(t) for t in history]
        if turns:  # the ECGs sit in the first user turn
            turns[0]["content"] = ecgs_first(turns[0]["content"], n_ecgs)
            return [*turns, {"role": "user", "content": question.strip()}]
        return [{"role": "user", "content": ecgs_first(question.strip(), n_ecgs)}]

    def model_input(self, prepared: Prepared) -> PreparedECG:
        """What the model's encoder kind computes for an ECG (text, slots, tensors; beats and their classes),
        computed once per `Prepared` and shared by the prescreen and every question about it."""
        if "ecg" not in prepared.cache:
            with self._lock:  # the kind may run the model's own encoder
                prepared.cache["ecg"] = self.processor.prepare(prepared.input)
        return prepared.cache["ecg"]

    def answer(self, items: Sequence[tuple[Sequence[Prepared], Sequence[dict[str, str]]]], streamer: Any = None,
               **sampling: Any) -> list[str]:
        """One batched generation: per item, its ECGs and its conversation (each `<ecg>` placeholder takes the next
        ECG; without placeholders the ECGs go first). Greedy unless sampling says otherwise."""
        batch = self.processor([conv for _, conv in items], [[self.model_input(p) for p in ps] for ps, _ in items],
                               add_generation_prompt=True, padding_side="left")
        with self._lock:
            new = self.model.generate(batch, max_new_tokens=sampling.pop("max_new_tokens", self.max_new_tokens),
                                      streamer=streamer, **sampling)
        return [t.strip() for t in self.processor.tokenizer.batch_decode(new, skip_special_tokens=True)]

    def write_text(self, prompt: str, max_new_tokens: int = 200) -> str:
        """The base LLM (the model's LLM without our LoRA: its own language), without ECGs, answering a text-only
        prompt greedily: e.g. rewording a Holter summary (`anyecg.holter.narrate`, which checks it). Loaded once,
        on first use (the chat model's LoRA is merged into its LLM for speed)."""
        import torch

        from anyecg.model.llm import load_llm

        if self._base is None:
            self._base = load_llm(self.model.cfg.llm)
        llm, tok = self._base
        ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                      return_tensors="pt", return_dict=True)
        with torch.no_grad():
            out = llm.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, temperature=None, top_p=None,
                               top_k=None, pad_token_id=tok.pad_token_id or tok.eos_token_id)
        return tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()

    def _prompt(self, prepared: Sequence[Prepared], conversation: Sequence[dict[str, str]]) -> dict[str, Any]:
        return self.processor([list(conversation)], [[self.model_input(p) for p in prepared]],
                              add_generation_prompt=True, padding_side="left")

    def prefill(self, prepared: Sequence[Prepared], conversation: Sequence[dict[str, str]]) -> Any:
        """The model's KV cache of a question's prompt (`AnyECGChatModel.prefill`), for its `alternatives`."""
        batch = self._prompt(prepared, conversation)
        with self._lock:
            return self.model.prefill(batch)

    def alternatives(self, prepared: Sequence[Prepared], conversation: Sequence[dict[str, str]], prefix: str = "",
                     prefilled: Any = None, **sampling: Any) -> list[str]:
        """The model's `VERIFY_BEAMS` best answers by beam search, best first (each cut at its end of turn); with
        `prefix`, its best answers that begin with those words (the prefix is given, the rest is the model's).
        prefilled: `prefill` of the same question, so that its prompt is not computed again."""
        import torch

        sampling = {k: v for k, v in sampling.items() if k not in ("do_sample", "temperature", "top_p")}
        batch = self._prompt(prepared, conversation)
        if prefix:
            forced = torch.tensor([self.processor.tokenizer(prefix, add_special_tokens=False)["input_ids"]])
            batch = {**batch, "input_ids": torch.cat([batch["input_ids"], forced], dim=1),
                     "attention_mask": torch.cat([batch["attention_mask"], torch.ones_like(forced)], dim=1)}
        with self._lock:
            new = self.model.generate(batch, max_new_tokens=sampling.pop("max_new_tokens", self.max_new_tokens),
                                      num_beams=VERIFY_BEAMS, num_return_sequences=VERIFY_BEAMS,
                                      early_stopping=True, prefilled=prefilled, **sampling)
        stops = set(self.model.stop_token_ids)
        out = []
        for ids in new.tolist():
            end = next((k for k, t in enumerate(ids) if t in stops), len(ids))
            out.append((prefix + self.processor.tokenizer.decode(ids[:end], skip_special_tokens=True)).strip())
        return out

    def verified(self, prepared: Sequence[Prepared], conversation: Sequence[dict[str, str]], text: str,
                 checks: Callable[[str], list[Check]] | None = None, **sampling: Any) -> tuple[str, str | None]:
        """Verified decoding: an answer whose claims the machine read of its ECG(s) contradicts (`checks`, default
        `check`) is replaced by the first of the model's alternatives (`alternatives`) that makes a claim of a kind
        the read contradicted (a rate for a rate, a change for a change: an answer that changes the subject does
        not count), agrees with the read on every claim and does not contradict itself ("No, atrial
        fibrillation."). Looked at in order: the model's own best answers; its best that begin otherwise (the
        other word of a yes/no answer, "Duration:" for a localization answered "No ... Found"); last, its best
        that begin with the read's own sentence about the first contradicted claim (`read_beginning`: the read
        leads, the model may end there or go on). An answer that says nothing of what its question asks
        (`unanswered_check`) is treated alike: an alternative must answer it. Where no alternative agrees, the
        read's sentence itself is given when it passes every check; else the first answer stands and its checks
        flag it. Returns (answer, the replaced answer or None)."""
        question = next((t["content"] for t in reversed(conversation) if t["role"] == "user"), "")
        checks = checks or (lambda answer: self.check(answer, prepared, question))
        wrong = disagreements(checks(text))
        if not wrong:
            return text, None
        flagged = {c.kind for c in wrong} - {"unanswered"}  # (an unanswered question: its check must go)
        read_led = self._read_beginnings(prepared, wrong, text)
        prefilled = self.prefill(prepared, conversation)  # each search below starts from the same prompt
        for prefix in ["", *_other_beginnings(text, wrong), *read_led]:
            for alt in self.alternatives(prepared, conversation, prefix, prefilled=prefilled, **sampling):
                found = checks(alt)
                if alt != text and (not flagged or flagged & {c.kind for c in found}) and not disagreements(found) \
                        and not contradicts_itself(alt):
                    return alt, text
        # no answer of the model agrees: the read's own words, where it has words for it that pass every check
        return next(((b, text) for b in read_led if not disagreements(checks(b))), (text, None))

    def _read_beginnings(self, prepared: Sequence[Prepared], wrong: Sequence[Check], text: str) -> list[str]:
        reads = [self.machine_read(p) for p in prepared]
        if any(r is None for r in reads):
            return []
        beginning = read_beginning(wrong, reads, text)
        return [] if beginning is None else [beginning]

    def answer_verified(self, items: Sequence[tuple[Sequence[Prepared], Sequence[dict[str, str]]]],
                        **sampling: Any) -> list[tuple[str, str | None]]:
        """`answer`, then each answer `verified` when `verify` is on: per item (answer, the replaced answer or
        None)."""
        texts = self.answer(items, **sampling)
        if not self.verify:
            return [(text, None) for text in texts]
        return [self.verified(ps, conv, text, **sampling) for (ps, conv), text in zip(items, texts, strict=True)]

    def ask_prepared(self, items: Sequence[tuple[Sequence[Prepared], str]], history: Sequence[dict[str, str]] = (),
                     **sampling: Any) -> list[str]:
        """Answer several (ECGs, question) pairs in one batched generation. A localization question about one ECG
        ("Locate the PVCs", "Where is the atrial fibrillation?": `question_target`) is answered by
        `locate_prepared` with the model's own rules, as `locate` answers it: one answer whatever the door."""
        return [text for text, _ in self.answer_questions(items, history, **sampling)]

    def answer_questions(self, items: Sequence[tuple[Sequence[Prepared], str]],
                         history: Sequence[dict[str, str]] = (), **sampling: Any) -> list[tuple[str, str | None]]:
        """`ask_prepared` with, per answer, the first answer it replaced (`verified`) or None."""
        out: list[str | None] = [self.general_answer(q) for _, q in items]
        replaced: list[str | None] = [None] * len(items)
        routed = [(i, t) for i, (ps, q) in enumerate(items)
                  if out[i] is None and len(ps) == 1 and (t := question_target(q))]
        if routed:
            locs = self.locate_prepared([items[i][0][0] for i, _ in routed], [t for _, t in routed],
                                        per_clip=self.model.kind.asks_per_clip, **sampling)
            for (i, _), loc in zip(routed, locs, strict=True):
                out[i], replaced[i] = loc.text, loc.replaced
        rest = [i for i, text in enumerate(out) if text is None]
        if rest:
            convs = [(list(items[i][0]), self._conversation(len(items[i][0]), items[i][1], history)) for i in rest]
            for i, (text, first) in zip(rest, self.answer_verified(convs, **sampling), strict=True):
                out[i], replaced[i] = text, first
        return [(text or "", r) for text, r in zip(out, replaced, strict=True)]

    def general_answer(self, question: str) -> str | None:
        """The answer to a question that asks nothing of the ECG beside it, or None for a question about the ECG.
        A textbook question about an ECG term ("What does QTc mean?": `is_general_question`, a term of
        `anyecg.glossary`) gets the glossary's entry for each term it names: the embedded LLM does not know
        electrocardiography. Any other such question ("What is hyperkalemia?", "How many hours are there in a
        day?") goes to the base LLM alone (`write_text`), whose language our training has not touched."""
        if not question or not question.strip():
            return None  # (`_conversation` says it is empty)
        entries = glossary.lookup(without_placeholders(question)) if is_general_question(question) else []
        if entries:
            return "\n\n".join(e.text for e in entries[:MAX_GLOSSARY_ENTRIES])
        if asks_nothing_of_the_ecg(question):
            return self.write_text(without_placeholders(question).strip(), max_new_tokens=min(self.max_new_tokens, 200))
        return None

    # ---- public API ---------------------------------------------------------------------------------------
    def ask(self, ecgs: ECGSpec | Sequence[ECGSpec], question: str, *, history: Sequence[dict[str, str]] = (),
            **sampling: Any) -> Answer:
        """One answer. `history`: earlier turns [{"role": "user"|"assistant", "content": ...}]; sampling:
        max_new_tokens, do_sample, temperature, top_p."""
        prepared = self._prepare_many(ecgs)
        text, replaced = self.answer_questions([(prepared, question)], history, **sampling)[0]
        return Answer(text, question, len(prepared), self.check(text, prepared, question), replaced)

    def stream(self, ecgs: ECGSpec | Sequence[ECGSpec], question: str, *, history: Sequence[dict[str, str]] = (),
               **sampling: Any) -> Iterator[str]:
        """Yield the answer's text as it is generated; with `verify` on it comes whole, once verified
        (`verified`)."""
        return self.stream_prepared(self._prepare_many(ecgs), question, history, **sampling)

    def stream_prepared(self, prepared: Sequence[Prepared], question: str,
                        history: Sequence[dict[str, str]] = (), **sampling: Any) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        if self.verify or (len(prepared) == 1 and question_target(question)) or asks_nothing_of_the_ecg(question):
            # answered whole, as `ask_prepared` answers it (verified against the read, located, or general)
            yield self.ask_prepared([(prepared, question)], history, **sampling)[0]
            return
        conv = self._conversation(len(prepared), question, history)
        streamer = TextIteratorStreamer(self.processor.tokenizer, skip_prompt=True, skip_special_tokens=True)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                self.answer([(list(prepared), conv)], streamer=streamer, **sampling)
            except BaseException as err:  # re-raised in the caller's thread
                errors.append(err)
                streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        yield from streamer
        thread.join()
        if errors:
            raise errors[0]

    def report(self, ecg: ECGSpec, **sampling: Any) -> Answer:
        return self.ask(ecg, REPORT_QUESTION, **{**REPORT_SAMPLING, **sampling})

    def report_batch(self, ecgs: Sequence[ECGSpec], **sampling: Any) -> list[Answer]:
        prepared = [prepare(e) for e in ecgs]
        answers = self.answer_questions([([p], REPORT_QUESTION) for p in prepared], **{**REPORT_SAMPLING, **sampling})
        return [Answer(t, REPORT_QUESTION, 1, self.check(t, [p], REPORT_QUESTION), r)
                for (t, r), p in zip(answers, prepared, strict=True)]

    def locate(self, ecg: ECGSpec, what: str, *, start_s: float | None = None, end_s: float | None = None,
               prescreen: bool = True, per_clip: bool | None = None, **sampling: Any) -> Localization:
        """Where `what` (a WFDB symbol such as 'V', a name such as 'PVC', or a rhythm such as 'AFIB') occurs.

        per_clip: a window longer than one 10 s clip is asked clip by clip and the findings merged, as `scan`
        does; False asks about the whole window at once. None (default): what the model's encoder kind asks
        (`asks_per_clip`: per clip for the beat kind, which the embedded model was trained on 10 s windows with;
        whole window for the paper's patch encoder, which reads long windows as clips itself).
        """
        spec = _as_ecg(ecg)
        if start_s is not None or end_s is not None:
            spec = ECG(spec.source, start_s, end_s, spec.leads, spec.lead_map, spec.fs, spec.mask_leads)
        prepared, target = prepare(spec), resolve_target(what)
        per_clip = self.model.kind.asks_per_clip if per_clip is None else per_clip
        loc = self.locate_prepared([prepared], [target], prescreen=prescreen, per_clip=per_clip, **sampling)[0]
        loc.checks = self.check_localization(loc, prepared)
        return loc

    def locate_prepared(self, prepared: Sequence[Prepared], targets: Sequence[Target], *, prescreen: bool = True,
                        per_clip: bool = False, conversations: Sequence[Sequence[dict[str, str]]] | None = None,
                        **sampling: Any) -> list[Localization]:
        """Batched localization: one question per (ECG, target) pair, in that order; the rules every front end
        (locate, scan, the server, evaluation) runs.

        prescreen: a question the beat screen answers (`screened`) is answered "No ... Found" without the LLM. It
        removes the LLM's false alarms: docs/results/localization_embedded_ds2.md measures both ways. With
        `verify` on, the screen's "none" stands only where the machine read finds none either, and each answer
        the read contradicts goes through `verified` (docs/results/verified_decoding.md).
        per_clip: an ECG longer than one 10 s clip is asked clip by clip (`clip_pieces`), each clip screened and
        asked on its own, the answers joined (`join_clip_answers`). All questions left go in one generation.
        conversations: the question per pair (default: `LOCATE_QUESTION`; evaluation asks its samples' own).
        """
        if len(prepared) != len(targets):
            raise AnyECGError(f"{len(prepared)} ECGs but {len(targets)} targets")
        convs = conversations or [self._conversation(1, LOCATE_QUESTION.format(X=t.description), ())
                                  for t in targets]
        rhythm = {i: self.rhythm_answer(p, t) for i, (p, t) in enumerate(zip(prepared, targets, strict=True))
                  if t.kind == "rhythm" and p.input.record is not None}
        pieces: list[tuple[int, float, Prepared]] = []  # (pair index, clip start in window seconds, ECG asked)
        for i, p in enumerate(prepared):
            if i in rhythm:
                continue
            split = per_clip and p.input.n_clips > 1
            pieces += [(i, offset, Prepared(x, p.start_time)) for offset, x in clip_pieces(p.input)] if split \
                else [(i, 0.0, p)]
        texts = [format_answer([], targets[i].description) for i, _, _ in pieces]
        # with verify on, the screen's "none" stands only where the machine read agrees; else the LLM is asked
        skip = [prescreen and self.screened(q, targets[i])
                and not (self.verify and disagreements(self.check_located(text, q, targets[i])))
                for (i, _, q), text in zip(pieces, texts, strict=True)]
        ask = [k for k, s in enumerate(skip) if not s]
        replaced: dict[int, str] = {}
        if ask:
            items = [([pieces[k][2]], convs[pieces[k][0]]) for k in ask]
            for k, item, text in zip(ask, items, self.answer(items, **sampling), strict=True):
                checks = partial(self.check_located, prepared=pieces[k][2], target=targets[pieces[k][0]])
                texts[k], first = self.verified(*item, text, checks=checks, **sampling) if self.verify \
                    else (text, None)
                if first is not None:
                    replaced[k] = first
        out = []
        for i, (p, t) in enumerate(zip(prepared, targets, strict=True)):
            if i in rhythm:
                out.append(self.localization(p, t, rhythm[i]))
                continue
            mine = [k for k, piece in enumerate(pieces) if piece[0] == i]
            text = texts[mine[0]] if pieces[mine[0]][2] is p else \
                join_clip_answers([(pieces[k][1], texts[k]) for k in mine], t.description)
            loc = self.localization(p, t, text)
            loc.prescreened = all(skip[k] for k in mine)
            firsts = [replaced.get(k) for k in mine]
            if any(firsts):  # the model's first answers, joined as the verified ones are
                loc.replaced = firsts[0] if len(mine) == 1 else join_clip_answers(
                    [(pieces[k][1], first or texts[k]) for k, first in zip(mine, firsts, strict=True)], t.description)
            out.append(loc)
        return out

    def rhythm_answer(self, prepared: Prepared, target: Target) -> str:
        """A rhythm target (AF, VT, pauses, ...) answered from the machine read of the ECG (the same read its checks
        use), not the LLM."""
        return read_answer(self.machine_read(prepared), target)

    def screened(self, prepared: Prepared, target: Target) -> bool:
        """The prescreen: a beat-type question is answered "none" without the LLM when the beat encoder's head
        finds no beat of that type in the ECG (`anyecg.model.beats.screened_out`); never for other targets or
        for a model whose kind does not classify beats."""
        if target.kind != "beat":
            return False
        classes = self.beat_classes(prepared)
        return classes is not None and screened_out(target.key, classes)

    def conversation(self, ecgs: ECGSpec | Sequence[ECGSpec]) -> Conversation:
        """A multi-turn session about the same ECGs."""
        return Conversation(self, self._prepare_many(ecgs))

    def beat_classes(self, prepared: Prepared) -> set[str] | None:
        """Beat classes (`anyecg.signal.beats.BEAT_CLASSES`) that the beat encoder's own classifier head finds in
        an ECG: a cheap screen before asking the LLM. None when the model's kind does not classify beats."""
        return self.processor.kind.beat_classes(self.model_input(prepared))

    @staticmethod
    def machine_read(prepared: Prepared) -> ECGFindings | None:
        """The findings of an ECG (measurements, statements, beats, episodes), computed once per model input and
        shared with the model's findings block (`anyecg.findings.read.findings_of`); None when the input was
        made without its record."""
        return findings_of(prepared.input)

    def check(self, text: str, prepared: Sequence[Prepared], question: str = "") -> list[Check]:
        """What an answer claims, against the machine read of its ECG(s): about one ECG every claim
        (`check_answer`; the answer to a localization question as a localization), about several the claims that
        name their ECG or a change between them (`check_comparison`); a report (`is_report_question`) also
        against what the read finds that it leaves out (`omission_checks`); any other answer also for saying
        nothing of what its question asks (`unanswered_check`); a listing of several ECGs also against each ECG's
        read (`listing_omission_checks`). A question that asks nothing of the ECG (`asks_nothing_of_the_ecg`: "What
        does QTc mean?") is not about it: nothing is checked."""
        reads = [self.machine_read(p) for p in prepared]
        if not reads or any(r is None for r in reads) or asks_nothing_of_the_ecg(question):
            return []
        if len(reads) > 1:
            checks = check_comparison(text, reads) + listing_omission_checks(text, reads)
        elif (target := question_target(question)) is not None:
            return self.check_located(text, prepared[0], target)
        elif is_report_question(question):
            return check_answer(text, reads[0]) + omission_checks(text, reads[0])
        else:
            checks = check_answer(text, reads[0])
        unanswered = unanswered_check(text, checks, question, reads)
        return checks if unanswered is None else [unanswered, *checks]

    def check_located(self, text: str, prepared: Prepared, target: Target) -> list[Check]:
        """A localization answer's text about `target` on an ECG against the machine read (`check_localization`)."""
        return self.check_localization(self.localization(prepared, target, text), prepared)

    def check_localization(self, loc: Localization, prepared: Prepared) -> list[Check]:
        """A localization answer against the intervals the machine read gives for the same target."""
        found = self.machine_read(prepared)
        if found is None:
            return []
        check = localization_check(loc.text, found, loc.target.key, loc.target.description)
        return [] if check is None else [check]

    # ---- helpers ------------------------------------------------------------------------------------------
    def _prepare_many(self, ecgs: ECGSpec | Sequence[ECGSpec]) -> list[Prepared]:
        specs = [ecgs] if isinstance(ecgs, str | Path | ECGRecord | ECG) else list(ecgs)
        if not specs:
            raise AnyECGError("no ECG given")
        if len(specs) > MAX_ECGS:
            raise AnyECGError(f"{len(specs)} ECGs given; at most {MAX_ECGS} ECGs fit in one question")
        return [prepare(s) for s in specs]

    @staticmethod
    def localization(prepared: Prepared, target: Target, text: str) -> Localization:
        """An answer about `target` on an ECG as a `Localization` (findings on its clock; invalid when unreadable)."""
        found = answer_findings(text, prepared)
        return Localization(target, text, [], valid=False) if found is None else Localization(target, text, found)


def read_answer(f: ECGFindings | None, target: Target) -> str:
    """A localization target answered from a machine read, in the paper's format: a rhythm target from its
    episodes, any other by the paper's interval rule on its beat classes ("No ... Found" without a read)."""
    found = None if f is None else read_intervals(f, target.key)
    return format_answer(found or [], target.description)


def locate_from_findings(ecg: ECGSpec, what: str) -> Localization:
    """`locate` without a model (`anyecg locate --engine findings`): `read_answer` on the machine read of the
    window in its recording. On held-out MIT-BIH windows it localizes better than the LLM
    (docs/results/localization_stop22_ds2.md)."""
    prepared, target = prepare(ecg), resolve_target(what)
    return ECGChat.localization(prepared, target, read_answer(findings_of(prepared.input), target))


class Conversation:
    """Multi-turn chat about fixed ECGs; keeps the history."""

    def __init__(self, chat: ECGChat, prepared: list[Prepared]):
        self.chat = chat
        self.prepared = prepared
        self.history: list[dict[str, str]] = []

    def ask(self, question: str, **sampling: Any) -> Answer:
        text, replaced = self.chat.answer_questions([(self.prepared, question)], self.history, **sampling)[0]
        self._remember(question, text)
        return Answer(text, question, len(self.prepared), self.chat.check(text, self.prepared, question), replaced)

    def stream(self, question: str, **sampling: Any) -> Iterator[str]:
        parts: list[str] = []
        for piece in self.chat.stream_prepared(self.prepared, question, self.history, **sampling):
            parts.append(piece)
            yield piece
        self._remember(question, "".join(parts).strip())

    def _remember(self, question: str, answer: str) -> None:
        first = not self.history
        content = ecgs_first(question, len(self.prepared)) if first else question
        self.history += [{"role": "user", "content": content}, {"role": "assistant", "content": answer}]
