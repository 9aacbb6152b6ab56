"""Checkpoints: trainable weights as safetensors + resolved config + everything a resume needs.

A checkpoint is a directory, written under a temporary name and renamed into place, so a crash never leaves
a half-written checkpoint under a real name:

    model.safetensors   trainable weights only (encoder, connector, LoRA, new token rows)  (names and reader:
    config.yaml         the resolved training config (model section included)        `anyecg.model.loading`)
    state.json          stage, global step, epoch, batch position in the epoch, metrics
    optimizer.pt, scheduler.pt, rng_<rank>.pt   resume state (torch.save; loaded with weights_only=True)
    accelerate/         resume state of sharded engines (DeepSpeed, FSDP) via `accelerator.save_state`
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from anyecg.errors import ModelError
from anyecg.model.loading import CONFIG, WEIGHTS
from anyecg.model.state import check_keys

STATE = "state.json"
log = logging.getLogger(__name__)
STEP_DIR = re.compile(r"^step-(\d+)$")


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states as tensors/primitives (loadable with weights_only=True)."""
    py = random.getstate()
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _is_sharded(accelerator: Any) -> bool:
    return accelerator is not None and accelerator.distributed_type.name in ("DEEPSPEED", "FSDP")


def save_checkpoint(path: Path, *, weights: dict[str, torch.Tensor], config_yaml: str, state: dict,
                    optimizer: Any = None, scheduler: Any = None, accelerator: Any = None) -> Path:
    """Write a checkpoint directory atomically. Call on every process (only the main one writes files).

    `weights` must be full tensors on the main process (gathered under sharded engines).
    Without `optimizer`, the checkpoint holds weights + config + state only (an end-of-stage result).
    """
    main = accelerator is None or accelerator.is_main_process
    rank = 0 if accelerator is None else accelerator.process_index
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    if main:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    _barrier(accelerator)
    if main:
        contiguous = {k: v.detach().to("cpu").contiguous() for k, v in weights.items()}
        save_file(contiguous, tmp / WEIGHTS, metadata={"format": "pt"})
        (tmp / CONFIG).write_text(config_yaml)
        (tmp / STATE).write_text(json.dumps(state, indent=1))
    if optimizer is not None:
        if _is_sharded(accelerator):
            accelerator.save_state(str(tmp / "accelerate"))
        elif main:
            torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
            torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        torch.save(rng_state(), tmp / f"rng_{rank}.pt")
    _barrier(accelerator)
    if main:
        old = path.with_name(f".{path.name}.old")
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    _barrier(accelerator)
    return path


def _barrier(accelerator: Any) -> None:
    if accelerator is not None:
        accelerator.wait_for_everyone()


def load_state(path: str | Path) -> dict:
    try:
        return json.loads((Path(path) / STATE).read_text())
    except (OSError, ValueError) as err:
        raise ModelError(f"unreadable checkpoint state: {err}", path) from None


def load_resume_state(path: Path, *, optimizer: Any, scheduler: Any, accelerator: Any = None) -> dict:
    """Restore optimizer, scheduler and RNG from a checkpoint; returns its `state.json`."""
    path = Path(path)
    rank = 0 if accelerator is None else accelerator.process_index
    if _is_sharded(accelerator):
        accelerator.load_state(str(path / "accelerate"))
    else:
        if not (path / "optimizer.pt").is_file():
            raise ModelError("checkpoint has no optimizer state (an end-of-stage checkpoint cannot resume)", path)
        optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=True, map_location="cpu"))
        scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=True))
    rng_file = path / f"rng_{rank}.pt"
    if rng_file.is_file():
        set_rng_state(torch.load(rng_file, weights_only=True))
    return load_state(path)


def step_checkpoints(out_dir: Path) -> list[Path]:
    """`step-N` checkpoint directories of a run, oldest first."""
    if not Path(out_dir).is_dir():
        return []
    found = [(int(m.group(1)), p) for p in Path(out_dir).iterdir() if (m := STEP_DIR.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(out_dir: Path) -> Path | None:
    steps = step_checkpoints(out_dir)
    return steps[-1] if steps else None


def prune_checkpoints(out_dir: Path, keep_last: int) -> None:
    for old in step_checkpoints(out_dir)[:-keep_last] if keep_last > 0 else []:
        shutil.rmtree(old, ignore_errors=True)


def init_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor],
                 ignore_prefixes: tuple[str, ...] = ("contrastive_head.",), source: Any = None) -> int:
    """Load checkpoint weights into `model` by name (stage N's result into stage N+1, or a resume).

    `anyecg.model.state.check_keys`: keys the model lacks raise (except stage-0-only `ignore_prefixes`), as do
    shape mismatches; the model's weights the checkpoint lacks (the frozen LLM, parts a stage never trained) keep
    their values and are logged by name when trainable. Returns the count loaded.
    """
    usable = {k: v for k, v in weights.items() if not k.startswith(ignore_prefixes)}
    own = model.state_dict()
    missing = check_keys(own, usable, source, allow_missing=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    kept = [k for k in missing if k in trainable]
    if kept:
        log.info("%d trainable weights not in %s keep their initial values: %s", len(kept), source or "the checkpoint",
                 ", ".join(kept[:5]) + (", ..." if len(kept) > 5 else ""))
    with torch.no_grad():
        for k, v in usable.items():
            own[k].copy_(v.to(device=own[k].device, dtype=own[k].dtype))
    return len(usable)
