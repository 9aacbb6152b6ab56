"""Helpers shared by the serving tests and `benchmarks/bench_serve.py`: a tiny random checkpoint, generated
WFDB records, ECG content parts, and a real `anyecg serve` process on a free loopback port."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np


def tiny_checkpoint(folder: Path) -> Path:
    """A checkpoint directory as `anyecg train` writes it, with the tiny random LLM (answers are noise)."""
    import yaml
    from safetensors.torch import save_file

    from anyecg.model.anyecg_chat import AnyECGChatModel
    from anyecg.model.config import ModelConfig
    from anyecg.model.loading import CONFIG, WEIGHTS

    cfg = ModelConfig(llm="tiny")
    model = AnyECGChatModel.from_config(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(model.trainable_state_dict(), str(folder / WEIGHTS))
    (folder / CONFIG).write_text(yaml.safe_dump({"model": cfg.to_dict()}))
    return folder


def write_wfdb(folder: Path, name: str, seconds: float, fs: int = 250,
               leads: Sequence[str] = ("MLII", "V1")) -> Path:
    """A synthetic WFDB record (sine-like beats plus noise); returns the record path without extension."""
    import wfdb

    t = np.arange(int(seconds * fs)) / fs
    sig = np.stack([np.sin(2 * np.pi * 1.2 * t + k) ** 15 + 0.05 * np.random.default_rng(k).normal(size=t.size)
                    for k in range(len(leads))], axis=1)
    wfdb.wrsamp(name, fs=fs, units=["mV"] * len(leads), sig_name=list(leads), p_signal=sig, fmt=["16"] * len(leads),
                write_dir=str(folder), base_time=dt.time(8, 30, 0), base_date=dt.date(2024, 1, 2))
    return folder / name


def ecg_part(record: Path, **window: Any) -> dict[str, Any]:
    """An `ecg_file` content part exactly as the evaluation client (`EndpointPredictor`) sends it."""
    from anyecg.eval.predictors import encode_ecg_file

    data, fmt, name = encode_ecg_file(str(record))
    return {"type": "ecg_file", "ecg_file": {"data": data, "format": fmt, "name": name, **window}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`anyecg serve` in a child process on 127.0.0.1:<free port>; a context manager that always stops it."""

    def __init__(self, model: Path, *args: str, startup_s: float = 120.0, threads: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [sys.executable, "-m", "anyecg", "serve", "--model", str(model), "--port", str(self.port), *args]
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(threads),
                    "TOKENIZERS_PARALLELISM": "false"}
        self.startup_s = startup_s
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"anyecg serve exited with {self.proc.returncode}: {err[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"anyecg serve did not answer /health within {self.startup_s:g} s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
