"""Request bodies (pydantic, so that `/openapi.json` documents them and bad bodies answer 422/400)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from anyecg.serve.uploads import FORMAT_HINTS
from anyecg.targets import DEFAULT_SCAN, SCAN_ENGINES
from anyecg.timebase import DEFAULT_WINDOW_S


class NamedFile(BaseModel):
    """One file of a multi-file record (WFDB `NAME.hea` + `NAME.dat` [+ `NAME.atr`])."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    data: str = Field(description="base64 of the file's bytes")


class ECGFile(BaseModel):
    """An ECG: inline base64 (`data` + `format`, or `files`), or `file_id` from `POST /v1/files`.

    The format `wfdb-zip` is a zip of `NAME.hea` and its signal files (the form the evaluation client sends).
    Window and leads as in `anyecg.chat.ECG`: seconds from the recording start; `mask_leads` are zeroed.
    """

    model_config = ConfigDict(extra="forbid")
    data: str | None = Field(None, description="base64 of the file (or of a zip)")
    format: str | None = Field(None, description=", ".join(FORMAT_HINTS))
    name: str | None = Field(None, max_length=200, description="record name (for messages and suffixes)")
    files: list[NamedFile] | None = Field(None, max_length=16, description="several named files (WFDB)")
    file_id: str | None = Field(None, max_length=64, description="an id from POST /v1/files")
    start_s: float | None = Field(None, ge=0)
    end_s: float | None = Field(None, gt=0)
    leads: list[str] | None = Field(None, max_length=12)
    mask_leads: list[str] | None = Field(None, max_length=12)
    lead_map: str | None = Field(None, max_length=500)
    fs: float | None = Field(None, gt=0, le=100000)


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ECGPart(BaseModel):
    type: Literal["ecg_file"]
    ecg_file: ECGFile


ContentPart = Annotated[TextPart | ECGPart, Field(discriminator="type")]


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    """OpenAI's chat completion body; the fields this server does not use are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[Message] = Field(min_length=1, max_length=64)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    n: int = Field(1, ge=1, le=1, description="one choice per request")


class ScanRequest(BaseModel):
    """A scan of a long recording: the ECG (usually a `file_id`), what to look for, the window."""

    model_config = ConfigDict(extra="forbid")
    ecg: ECGFile
    targets: list[str] = Field(default_factory=lambda: list(DEFAULT_SCAN), min_length=1, max_length=16)
    window_s: float = Field(DEFAULT_WINDOW_S, ge=10, le=600)
    overlap_s: float = Field(0.0, ge=0, lt=600)
    batch_size: int = Field(8, ge=1, le=64)
    engine: Literal[SCAN_ENGINES] = SCAN_ENGINES[0]  # findings: the machine read alone; llm: the model per window


class ParseRequest(BaseModel):
    """An answer text (`Duration: 1.9s-3.1s, ...`) to read as intervals on an ECG window."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=10000)
    ecg: ECGFile
