"""Predictors: anything that answers evaluation samples. `predict(samples, mask_leads=None) -> list[str]`.

- `EndpointPredictor`: any OpenAI-compatible `/v1/chat/completions` server, requests sent concurrently.
- `LocalModelPredictor`: the project's chat model (`anyecg.model`), batched `generate`.
- `TrivialPredictor`: the two references every localization table carries (always `No ... Found`,
  always the whole window), answered from the question alone.
- `anyecg.eval.unet.UNetPredictor`: the supervised baseline.
- `BeatClassifierPredictor`: perception alone, no LLM: the BeatEncoder's head classifies the detected beats and
  the paper's rule turns them into the answer (the "copy ceiling" of beat mode, docs/perception.md).

Request format of `EndpointPredictor` (the serving issue implements the same): the sample's turns up to
its last assistant turn, each `<ecg>` placeholder of a user turn replaced by one content part

    {"type": "ecg_file", "ecg_file": {"data": BASE64, "format": "wfdb-zip" | "edf" | "npy" | "csv" | ...,
                                      "name": "100", "start_s": 12.3, "end_s": 22.3,
                                      "leads": ["II", "V1"], "mask_leads": ["V1"]}}

`data` is the file's bytes (WFDB: a zip of `NAME.hea` and its signal files; annotations are not sent),
`start_s`/`end_s` the window in seconds from the recording start (absent: whole recording), `leads` the
leads to keep (absent: all), `mask_leads` leads set to zero after preprocessing (lead-masking ablation;
absent: none). Text around the placeholders becomes `{"type": "text", "text": ...}` parts. Request body:
`{"model": MODEL, "messages": [...], "temperature": 0, "max_tokens": N}`; the answer is
`choices[0].message.content`.
"""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from anyecg.errors import AnyECGError, ConfigError, ECGFileError, ModelError
from anyecg.eval.samples import EvalSample
from anyecg.io.formats import format_of_suffix
from anyecg.prompts import ECG_PLACEHOLDER, REPORT_SAMPLING
from anyecg.signal.intervals import describe, format_answer
from anyecg.targets import Target, resolve_target


class Predictor(Protocol):
    """Answers a batch of samples; `mask_leads[i]` lists the leads to zero in sample i's ECGs."""

    name: str

    def predict(self, samples: Sequence[EvalSample],
                mask_leads: Sequence[Sequence[str]] | None = None) -> list[str]: ...


class TrivialPredictor:
    """`always_no` answers `No {description} Found`; `whole_window` answers `Duration: 0.0s-{duration}s`."""

    def __init__(self, kind: str):
        if kind not in ("always_no", "whole_window"):
            raise ValueError(f"unknown trivial predictor {kind!r}")
        self.kind = kind
        self.name = kind

    def predict(self, samples: Sequence[EvalSample],
                mask_leads: Sequence[Sequence[str]] | None = None) -> list[str]:
        if self.kind == "always_no":
            return [format_answer([], describe(s.abnormal_type)) for s in samples]
        return [format_answer([(0.0, s.duration_s)], describe(s.abnormal_type)) for s in samples]


# ---------------------------------------------------------------------------------------- endpoint
@lru_cache(maxsize=16)
def encode_ecg_file(path: str) -> tuple[str, str, str]:
    """(base64 data, format, name) of an ECG file; a WFDB record (`.hea` or no extension) becomes a zip."""
    p = Path(path)
    header = p.with_suffix(".hea") if p.suffix in ("", ".hea", ".dat") else None
    if header is not None and header.is_file():
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            zf.write(header, header.name)
            for line in header.read_text(errors="replace").splitlines()[1:]:
                fields = line.split()
                if (fields and not line.startswith("#") and (p.parent / fields[0]).is_file()
                        and fields[0] not in zf.namelist()):
                    zf.write(p.parent / fields[0], fields[0])
        return base64.b64encode(buf.getvalue()).decode(), "wfdb-zip", p.stem
    if not p.is_file():
        raise ECGFileError("ECG file not found", p)
    known = format_of_suffix(p)
    fmt = known.name if known else p.suffix.lower().lstrip(".")
    return base64.b64encode(p.read_bytes()).decode(), fmt, p.stem


def build_messages(sample: EvalSample, mask_leads: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The sample's prompt turns in the endpoint format above (one content part per `<ecg>`)."""
    refs = iter(sample.ecgs)
    messages = []
    for turn in sample.prompt:
        if turn["role"] != "user" or ECG_PLACEHOLDER not in turn["content"]:
            messages.append({"role": turn["role"], "content": turn["content"]})
            continue
        parts: list[dict[str, Any]] = []
        pieces = turn["content"].split(ECG_PLACEHOLDER)
        for k, text in enumerate(pieces):
            if text.strip():
                parts.append({"type": "text", "text": text.strip()})
            if k < len(pieces) - 1:
                ref = next(refs)
                data, fmt, name = encode_ecg_file(str(ref.path))
                ecg: dict[str, Any] = {"data": data, "format": fmt, "name": name}
                if ref.start_s is not None:
                    ecg["start_s"] = ref.start_s
                if ref.end_s is not None:
                    ecg["end_s"] = ref.end_s
                if ref.leads:
                    ecg["leads"] = list(ref.leads)
                if mask_leads:
                    ecg["mask_leads"] = list(mask_leads)
                parts.append({"type": "ecg_file", "ecg_file": ecg})
        messages.append({"role": "user", "content": parts})
    return messages


class EndpointPredictor:
    """An OpenAI-compatible chat endpoint; `concurrency` requests in flight (the batching of HTTP)."""

    def __init__(self, url: str, model: str = "anyecg", *, concurrency: int = 8, max_tokens: int = 256,
                 timeout_s: float = 120.0, api_key: str | None = None):
        import httpx

        self.url = url.rstrip("/")
        if not self.url.endswith("/chat/completions"):
            self.url += "/chat/completions" if self.url.endswith("/v1") else "/v1/chat/completions"
        self.model, self.concurrency, self.max_tokens = model, concurrency, max_tokens
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(timeout=timeout_s, headers=headers,
                                   limits=httpx.Limits(max_connections=concurrency))
        self.name = f"endpoint:{self.url}"

    def _one(self, sample: EvalSample, mask: Sequence[str]) -> str:
        body = {"model": self.model, "messages": build_messages(sample, mask), "temperature": 0,
                "max_tokens": self.max_tokens}
        try:
            resp = self.client.post(self.url, json=body)
            resp.raise_for_status()
            return str(resp.json()["choices"][0]["message"]["content"])
        except Exception as err:  # network, HTTP status, malformed JSON: one actionable message
            raise ModelError(f"endpoint request for sample {sample.id} failed: {err}", self.url) from err

    def predict(self, samples: Sequence[EvalSample],
                mask_leads: Sequence[Sequence[str]] | None = None) -> list[str]:
        masks = mask_leads or [()] * len(samples)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, samples, masks))


# ---------------------------------------------------------------------------------------- local model
class LocalModelPredictor:
    """The project's chat model (a stage checkpoint or an exported directory), answered through `ECGChat`: the
    same rules and batching a user's `locate`/`ask` runs, so evaluation measures what users run.

    Greedy decoding, prompts left-padded, one generation per batch. For localization samples two options do what
    `ECGChat.locate` does by default: `prescreen` (`ECGChat.screened`: a beat type the beat head does not find is
    answered "No ... Found" without the LLM; beat-kind models) and `per_clip` (a window longer than 10 s asked
    clip by clip, the answers joined); each sample keeps its own question. Other answers are verified against the
    machine read as `ECGChat.ask` verifies them (`ECGChat.answer_verified`) unless `verify` is off.
    """

    def __init__(self, checkpoint: str | Path, *, max_new_tokens: int = 256, device: str = "cpu",
                 prescreen: bool = False, per_clip: bool = False, verify: bool = True):
        from anyecg.chat import ECGChat

        path = Path(checkpoint)
        self.chat = ECGChat.load(path, device=device, max_new_tokens=max_new_tokens, verify=verify)
        if prescreen and not self.chat.model.kind.classifies_beats:
            raise ModelError("--prescreen needs a beat-mode model (encoder.kind: beats)", path)
        self.prescreen, self.per_clip = prescreen, per_clip
        self.name = f"model:{path.name}" + "".join(f"+{o}" for o, on in (("prescreen", prescreen),
                                                                       ("per-clip", per_clip), ("unverified", not verify))
                                                    if on)

    def predict(self, samples: Sequence[EvalSample],
                mask_leads: Sequence[Sequence[str]] | None = None) -> list[str]:
        from anyecg.chat import Prepared

        masks = mask_leads or [()] * len(samples)
        ecgs = [[Prepared(ref.load(mask), None) for ref in s.ecgs] for s, mask in zip(samples, masks, strict=True)]
        located = [i for i, (s, e) in enumerate(zip(samples, ecgs, strict=True))
                   if s.task == "localization" and len(e) == 1]
        others = [i for i in range(len(samples)) if i not in set(located)]
        out = [""] * len(samples)
        if located:
            locs = self.chat.locate_prepared([ecgs[i][0] for i in located],
                                             [_target(samples[i].abnormal_type) for i in located],
                                             prescreen=self.prescreen, per_clip=self.per_clip,
                                             conversations=[samples[i].prompt for i in located])
            for i, loc in zip(located, locs, strict=True):
                out[i] = loc.text
        for task in sorted({samples[i].task for i in others}):  # a report decodes as `ECGChat.report` does
            batch = [i for i in others if samples[i].task == task]
            sampling = REPORT_SAMPLING if task == "report" else {}
            answers = self.chat.answer_verified([(ecgs[i], samples[i].prompt) for i in batch], **sampling)
            for i, (text, _) in zip(batch, answers, strict=True):
                out[i] = text
        return out


def _target(symbol: str) -> Target:
    """The localization target of an evaluation sample's abnormal type (a type no front end knows is asked as
    written and never prescreened)."""
    try:
        return resolve_target(symbol)
    except AnyECGError:
        return Target(symbol, symbol, "other")


# ---------------------------------------------------------------------------------------- beat classifier
class BeatClassifierPredictor:
    """Localization from the beat encoder's own head and the paper's interval rule, without the LLM: what an LLM
    that copies the beat classes perfectly would answer."""

    def __init__(self, weights: str | Path | None = None):
        from anyecg.model.beats import load_beat_encoder

        self.encoder = load_beat_encoder(weights)
        self.name = "beat_classifier"

    def predict(self, samples: Sequence[EvalSample],
                mask_leads: Sequence[Sequence[str]] | None = None) -> list[str]:
        from anyecg.model.beats import input_beats, predicted_intervals
        from anyecg.signal.beats import SYMBOL_CLASS
        from anyecg.timebase import MODEL_FS

        masks = mask_leads or [()] * len(samples)
        out = []
        for s, mask in zip(samples, masks, strict=True):
            x = s.ecgs[0].load(mask)
            if s.abnormal_type not in SYMBOL_CLASS:
                out.append(format_answer([], describe(s.abnormal_type)))
                continue
            beats = input_beats(x, norm=self.encoder.cfg.norm, context=self.encoder.cfg.context)
            intervals = predicted_intervals(beats.sample, self.encoder.predict(beats), s.abnormal_type,
                                            x.n_samples, MODEL_FS)
            out.append(format_answer(intervals, describe(s.abnormal_type)))
        return out


# ---------------------------------------------------------------------------------------- machine read
class FindingsPredictor:
    """The machine read alone, no LLM: what a model that copies its findings block would answer. Each ECG is read
    in its recording (`read_file_findings`). Localization is answered as `locate --engine findings` answers
    (`anyecg.chat.read_answer`: the paper's interval rule on its beat classes, or its episodes for a rhythm target);
    reports and comparisons of ECGs are written as the read targets of training are
    (`anyecg.data.tasks.read_targets`: the read's statements, per ECG and for the question's aspect)."""

    name = "findings"

    def predict(self, samples: Sequence[EvalSample],
                mask_leads: Sequence[Sequence[str]] | None = None) -> list[str]:
        from anyecg.chat import read_answer
        from anyecg.data.tasks.read_targets import read_comparison, read_report
        from anyecg.findings.read import read_file_findings

        if mask_leads and any(mask_leads):
            raise ConfigError("the findings predictor reads every lead of the file: no lead ablations")
        out = []
        for s in samples:
            fs = [read_file_findings(ref.path, start_s=ref.start_s, end_s=ref.end_s) for ref in s.ecgs]
            if s.task == "localization":
                out.append(read_answer(fs[0], _target(s.abnormal_type)))
            elif s.task == "report":
                out.append(read_report(fs[0])[0])
            elif s.task == "multiecg":
                out.append(read_comparison(fs, s.meta.get("aspect", "overall"))[0])
            else:
                raise ConfigError(f"the findings predictor answers localization, report and multiecg, not {s.task}")
        return out
