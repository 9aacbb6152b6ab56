"""One training recipe for every stage (0 contrastive, 1–3 curriculum), run through Hugging Face Accelerate.

torchtune-style: `setup` builds the accelerator, model parts, data, optimizer and schedule from their config
subtrees; `train` is the loop; `save_checkpoint`; `cleanup`. `recipe_main` strings them together. The same
code runs on one CPU process (bf16 autocast optional), one GPU, or `accelerate launch` with the DeepSpeed /
FSDP configs in configs/accelerate/.
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

import torch
import yaml
from accelerate import Accelerator, PartialState
from accelerate.utils import set_seed
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import get_cosine_schedule_with_warmup

from anyecg.errors import AnyECGError, ConfigError
from anyecg.model.config import ModelConfig
from anyecg.model.loading import load_weights
from anyecg.train import checkpoint as ckpt
from anyecg.train.config import OptimConfig, TrainConfig
from anyecg.train.dataset import JsonlMixture
from anyecg.train.stages import StageParts, build_stage_parts

log = logging.getLogger(__name__)


def resolve_model_config(spec: object) -> ModelConfig:
    """`model:` of a stage config: a mapping (inline) or a path to a model YAML."""
    if isinstance(spec, dict):
        return ModelConfig.from_dict(spec)
    if isinstance(spec, str):
        return ModelConfig.from_yaml(spec)
    raise ConfigError(f"model must be a mapping or a path to a model YAML, got {spec!r}")


def setup_accelerator(cfg: TrainConfig, grad_accum: int) -> Accelerator:
    """Accelerate owns devices and precision; `accelerate launch` decides processes and engine."""
    return Accelerator(mixed_precision=cfg.mixed_precision, gradient_accumulation_steps=grad_accum)


def setup_optimizer(model: nn.Module, optim: OptimConfig) -> torch.optim.Optimizer:
    """AdamW over trainable parameters; weight decay on all but biases (official train.py)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if "bias" in name else decay).append(p)
    groups = [{"params": decay, "weight_decay": optim.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=optim.lr, betas=optim.betas, eps=optim.eps)


class Recipe:
    """A stage run. `setup()` then `train()`; `resume=True` continues the latest step checkpoint."""

    def __init__(self, cfg: TrainConfig, *, resume: bool = False):
        self.cfg = cfg
        self.resume = resume
        self.out = Path(cfg.output_dir)
        self.global_step = 0
        self.epoch = 0
        self.batch_in_epoch = 0  # micro-batches of this process consumed in `epoch`
        self.skipped = 0

    # ---- setup ----------------------------------------------------------------------------------------
    def setup(self) -> None:
        cfg = self.cfg
        self.grad_accum = cfg.grad_accum_steps(PartialState().num_processes)
        self.accelerator = acc = setup_accelerator(cfg, self.grad_accum)
        set_seed(cfg.seed)
        self.model_cfg = resolve_model_config(cfg.model)
        self.parts: StageParts = build_stage_parts(cfg, self.model_cfg)
        self.dataset = JsonlMixture(cfg.data.sources, batch_size=cfg.micro_batch_size, collate=self.parts.collate,
                                    seed=cfg.seed, shuffle_buffer=cfg.data.shuffle_buffer,
                                    process_index=acc.process_index, num_processes=acc.num_processes)
        self.total_steps = cfg.max_steps or sum(self.steps_in_epoch(e) for e in range(cfg.epochs))
        optimizer = setup_optimizer(self.parts.model, cfg.optim)
        self.scheduler = get_cosine_schedule_with_warmup(
            optimizer, math.ceil(cfg.optim.warmup_ratio * self.total_steps), self.total_steps)
        self.model, self.optimizer = acc.prepare(self.parts.model, optimizer)
        if self.resume and (last := ckpt.latest_checkpoint(self.out)) is not None:
            self._resume_from(last)
        if acc.is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            log.info("stage %d: %d optimizer steps, %d micro-batches of %d per step, %s trainable parameters",
                     cfg.stage, self.total_steps, self.grad_accum, cfg.micro_batch_size,
                     f"{sum(p.numel() for p in self.parts.model.parameters() if p.requires_grad):,}")

    def steps_in_epoch(self, epoch: int) -> int:
        """Optimizer steps in an epoch: the micro-batches beyond the last full accumulation are dropped."""
        batches = self.dataset.batches_per_epoch(epoch)
        if batches < self.grad_accum:
            raise ConfigError(f"epoch {epoch} has {batches} micro-batches, fewer than the {self.grad_accum} "
                              f"accumulated per optimizer step: lower effective_batch_size or add data")
        return batches // self.grad_accum

    def _resume_from(self, path: Path) -> None:
        ckpt.init_weights(self.accelerator.unwrap_model(self.model), load_weights(path), source=path)
        state = ckpt.load_resume_state(path, optimizer=self.optimizer, scheduler=self.scheduler,
                                       accelerator=self.accelerator)
        self.global_step, self.epoch = state["global_step"], state["epoch"]
        self.batch_in_epoch, self.skipped = state["batch_in_epoch"], state.get("skipped", 0)
        log.info("resumed from %s at step %d (epoch %d, batch %d)", path, self.global_step, self.epoch,
                 self.batch_in_epoch)

    # ---- loop -----------------------------------------------------------------------------------------
    def train_mode(self) -> None:
        """Training mode, except frozen parts with dropout (e.g. the encoder in stage 3) stay in eval."""
        self.model.train()
        for module in self.parts.frozen_modules(self.accelerator.unwrap_model(self.model)):
            module.eval()

    def loss_step(self, batch: dict) -> torch.Tensor:
        return self.model(**batch).loss

    def _to_device(self, batch: dict) -> dict:
        batch = self.parts.transform(batch)
        return {k: v.to(self.accelerator.device) if torch.is_tensor(v) else v for k, v in batch.items()}

    def train(self, stop_at: int | None = None) -> dict:
        """Run until `total_steps` (or `stop_at`, which leaves the schedule as configured). Returns metrics."""
        acc, cfg = self.accelerator, self.cfg
        self.train_mode()
        bar = tqdm(total=self.total_steps, initial=self.global_step, disable=not acc.is_local_main_process,
                   desc=f"stage {cfg.stage}", unit="step")
        end = min(self.total_steps, stop_at or self.total_steps)
        window = {"loss": 0.0, "n": 0, "samples": 0, "tokens": 0, "t0": time.perf_counter()}
        metrics: dict = {}
        while self.global_step < end:
            n_micro = self.steps_in_epoch(self.epoch) * self.grad_accum
            self.dataset.set_position(self.epoch, self.batch_in_epoch)
            acc.step = 0  # checkpoints sit on step boundaries: accumulation restarts with the epoch/resume
            loader = DataLoader(self.dataset, batch_size=None, num_workers=cfg.data.num_workers,
                                generator=torch.Generator().manual_seed(cfg.seed + self.epoch))
            for batch in loader:
                self.batch_in_epoch += 1
                with acc.accumulate(self.model):
                    self._micro_step(batch, window)
                if acc.sync_gradients:
                    self.global_step += 1
                    bar.update(1)
                    if self.global_step % cfg.log_every == 0 or self.global_step == end:
                        metrics = self._log(window, bar)
                    if cfg.save_every and self.global_step % cfg.save_every == 0 and self.global_step < end:
                        self.save_checkpoint(f"step-{self.global_step}")
                if self.batch_in_epoch >= n_micro or self.global_step >= end:
                    break
            if self.batch_in_epoch >= n_micro or self.global_step < end:
                self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        bar.close()
        if self.global_step >= self.total_steps:
            if self.parts.evaluate is not None:
                metrics.update(self.parts.evaluate(self))
            self.save_checkpoint("final", resumable=False, metrics=metrics)
        else:
            self.save_checkpoint(f"step-{self.global_step}")  # stopped early: leave a resume point
        return metrics

    def _micro_step(self, batch: dict | None, window: dict) -> None:
        """Forward + backward of one micro-batch; optimizer/scheduler step when accumulation is complete."""
        acc = self.accelerator
        if batch is None:  # every sample of this micro-batch was unusable
            batch = {}
        n_samples = batch.pop("n_samples", 0)
        self.skipped += batch.pop("n_skipped", 0)
        loss = torch.zeros((), device=acc.device)
        if n_samples:
            batch = self._to_device(batch)
            loss = self.loss_step(batch)
            if not torch.isfinite(loss):
                raise AnyECGError(f"training loss is {loss.item()} at step {self.global_step + 1} "
                                  f"(epoch {self.epoch}, micro-batch {self.batch_in_epoch}); stopped without "
                                  f"saving. Lower optim.lr, set optim.max_grad_norm, or resume from the last "
                                  f"step checkpoint", self.out)
            acc.backward(loss)
            window["tokens"] += int(batch["attention_mask"].sum()) if "attention_mask" in batch else 0
        window["loss"] += loss.detach().float().item()
        window["n"] += 1
        window["samples"] += n_samples
        if acc.sync_gradients and self.cfg.optim.max_grad_norm:
            acc.clip_grad_norm_(self.model.parameters(), self.cfg.optim.max_grad_norm)
        self.optimizer.step()
        if acc.sync_gradients:
            self.scheduler.step()
        self.optimizer.zero_grad()

    def _log(self, window: dict, bar: tqdm) -> dict:
        seconds = time.perf_counter() - window["t0"]
        row = {"step": self.global_step, "epoch": self.epoch, "loss": window["loss"] / max(window["n"], 1),
               "lr": self.scheduler.get_last_lr()[0], "samples_per_s": window["samples"] / seconds,
               "tokens_per_s": window["tokens"] / seconds, "skipped": self.skipped}
        bar.set_postfix(loss=f"{row['loss']:.4f}", lr=f"{row['lr']:.2e}")
        if self.accelerator.is_main_process:
            with open(self.out / "log.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")
        window.update(loss=0.0, n=0, samples=0, tokens=0, t0=time.perf_counter())
        return row

    # ---- save / cleanup -------------------------------------------------------------------------------
    def resolved_config_yaml(self) -> str:
        data = self.cfg.to_dict()
        data["model"] = self.model_cfg.to_dict()
        data["optim"]["betas"] = list(data["optim"]["betas"])
        return yaml.safe_dump(data, sort_keys=False)

    def save_checkpoint(self, name: str, *, resumable: bool = True, metrics: dict | None = None) -> Path:
        acc = self.accelerator
        state = {"stage": self.cfg.stage, "global_step": self.global_step, "total_steps": self.total_steps,
                 "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch, "skipped": self.skipped,
                 "metrics": metrics or {}}
        weights = self.parts.weights(acc.unwrap_model(self.model))
        if acc.distributed_type.name in ("DEEPSPEED", "FSDP"):  # sharded parameters: gather full tensors
            full = acc.get_state_dict(self.model)
            weights = {k: full[k] for k in weights} if acc.is_main_process else {}
        path = ckpt.save_checkpoint(self.out / name, weights=weights, config_yaml=self.resolved_config_yaml(),
                                    state=state, optimizer=self.optimizer if resumable else None,
                                    scheduler=self.scheduler, accelerator=acc)
        if acc.is_main_process:
            ckpt.prune_checkpoints(self.out, self.cfg.keep_last)
            log.info("saved %s", path)
        return path

    def cleanup(self) -> None:
        self.accelerator.end_training()


def recipe_main(cfg: TrainConfig, *, resume: bool = False) -> dict:
    """Set up, train and clean up one stage; returns the last logged metrics."""
    recipe = Recipe(cfg, resume=resume)
    recipe.setup()
    metrics = recipe.train()
    recipe.cleanup()
    return metrics
