"""What differs between stages, built from config: the model, its batch collate, what a checkpoint keeps,
and the end-of-stage evaluation. Stage 0 is contrastive; stages 1–3 share one chat model and differ only
in `trainable` and the data mix.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import PartialState
from accelerate.utils import gather_object
from torch import Tensor, nn

from anyecg.errors import ConfigError
from anyecg.model.anyecg_chat import AnyECGChatModel
from anyecg.model.config import ModelConfig
from anyecg.model.loading import WEIGHTS, load_weights
from anyecg.train.checkpoint import init_weights
from anyecg.train.config import SourceConfig, TrainConfig
from anyecg.train.contrastive import ContrastiveModel, TextFeaturizer, TextTower, retrieval_recall
from anyecg.train.dataset import (
    ChatCollator,
    ECGLoader,
    JsonlMixture,
    PairCollator,
    is_heldout,
    manifest_roots,
)

log = logging.getLogger(__name__)


@dataclass
class StageParts:
    model: nn.Module
    collate: Callable[[list[dict]], dict | None]  # runs in DataLoader workers
    transform: Callable[[dict], dict]  # runs in the training process before the device move
    weights: Callable[[nn.Module], dict[str, Tensor]]  # what a checkpoint stores, from the unwrapped model
    evaluate: Callable[[Any], dict] | None = None  # end-of-stage metrics, given the Recipe
    frozen_modules: Callable[[nn.Module], list[nn.Module]] = lambda m: []  # kept in eval mode while training


def build_stage_parts(cfg: TrainConfig, model_cfg: ModelConfig) -> StageParts:
    """Check the inputs named by the config first (cheap), then build the stage's model (slow)."""
    paths = [s.path for s in cfg.data.sources + cfg.data.val_sources]
    for path in paths:
        if not Path(path).is_file():
            raise ConfigError("data file not found (build it with `anyecg data build`)", path)
    if cfg.init_from and not (Path(cfg.init_from) / WEIGHTS).is_file():
        raise ConfigError(f"init_from: no {WEIGHTS}; train the previous stage first", cfg.init_from)
    loader = ECGLoader({**manifest_roots(paths), **cfg.data.roots})
    return contrastive_parts(cfg, model_cfg, loader) if cfg.stage == 0 else chat_parts(cfg, model_cfg, loader)


def _val_setup(cfg: TrainConfig, fraction: float) -> tuple[list[SourceConfig], Callable | None, Callable | None]:
    """(validation sources, train filter, validation filter): explicit val files, or a held-out id hash."""
    if cfg.data.val_sources:
        return cfg.data.val_sources, None, None
    if fraction <= 0:
        return [], None, None
    sources = [SourceConfig(s.path, 1.0) for s in cfg.data.sources]
    return sources, (lambda s: not is_heldout(s, fraction)), (lambda s: is_heldout(s, fraction))


def _val_batches(recipe: Any, sources: list[SourceConfig], collate: Callable) -> JsonlMixture:
    acc = recipe.accelerator
    return JsonlMixture(sources, batch_size=recipe.cfg.micro_batch_size, collate=collate, seed=recipe.cfg.seed,
                        shuffle_buffer=1, process_index=acc.process_index, num_processes=acc.num_processes)


# ---- stages 1–3 -----------------------------------------------------------------------------------------
def chat_parts(cfg: TrainConfig, model_cfg: ModelConfig, loader: ECGLoader) -> StageParts:
    model = AnyECGChatModel.from_config(model_cfg)
    if cfg.init_from:
        n = init_weights(model, load_weights(cfg.init_from), ignore_prefixes=("contrastive_head.", *cfg.init_skip),
                         source=cfg.init_from)
        log.info("initialised %d tensors from %s%s", n, cfg.init_from,
                 f" (not {', '.join(cfg.init_skip)})" if cfg.init_skip else "")
    model.set_trainable(**dataclasses.asdict(cfg.trainable))
    if cfg.gradient_checkpointing:
        model.enable_gradient_checkpointing()
    val_sources, _, _ = _val_setup(cfg, 0.0)
    collate = ChatCollator(model.processor(), loader)

    def evaluate(recipe: Any) -> dict:
        """Mean token loss on the validation files."""
        acc, net = recipe.accelerator, recipe.model
        net.eval()
        losses = []
        with torch.no_grad():
            for batch in _val_batches(recipe, val_sources, ChatCollator(model.processor(), loader)):
                if batch is not None and batch.pop("n_samples"):
                    batch.pop("n_skipped")
                    losses.append(recipe.loss_step(recipe._to_device(batch)).float())
        recipe.train_mode()
        mean = torch.stack(losses).mean() if losses else torch.tensor(float("nan"), device=acc.device)
        return {"val_loss": acc.gather(mean.to(acc.device).reshape(1)).mean().item()}

    frozen = (lambda m: [m.ecg_encoder]) if not cfg.trainable.encoder else (lambda m: [])
    return StageParts(model=model, collate=collate, transform=lambda b: b,
                      weights=lambda m: m.trainable_state_dict(),
                      evaluate=evaluate if val_sources else None, frozen_modules=frozen)


# ---- stage 0 --------------------------------------------------------------------------------------------
def contrastive_parts(cfg: TrainConfig, model_cfg: ModelConfig, loader: ECGLoader) -> StageParts:
    ccfg = cfg.contrastive
    tower = TextTower(ccfg.text_encoder, device=PartialState().device)
    model = ContrastiveModel(model_cfg.encoder, tower.dim, ccfg)
    if cfg.init_from:
        init_weights(model, load_weights(cfg.init_from), ignore_prefixes=("connector.", "token_embeds.", "llm."),
                     source=cfg.init_from)
    val_sources, keep_train, keep_val = _val_setup(cfg, ccfg.val_fraction)
    featurize = TextFeaturizer(tower)

    def evaluate(recipe: Any) -> dict:
        """ECG → report retrieval recall@1/5 on the held-out pairs (all processes' pairs together)."""
        acc, net = recipe.accelerator, recipe.accelerator.unwrap_model(recipe.model)
        net.eval()
        embeds, texts = [], []
        with torch.no_grad():
            for batch in _val_batches(recipe, val_sources, PairCollator(loader, keep_val)):
                if batch is None:
                    continue
                texts += batch["texts"]
                dev = acc.device
                embeds.append(net.embed_ecgs(batch["ecg_clips"].to(dev), batch["clips_per_ecg"],
                                             batch["lead_masks"].to(dev)).float().cpu())
        recipe.train_mode()
        pairs = gather_object([(e, t) for e, t in zip(torch.cat(embeds).unbind() if embeds else [], texts,
                                                      strict=True)])
        if not pairs:
            log.warning("stage 0: no held-out pairs, recall not computed")
            return {}
        ecg = torch.stack([e for e, _ in pairs])
        return retrieval_recall(ecg, [t for _, t in pairs], net, tower)

    return StageParts(model=model, collate=PairCollator(loader, keep_train), transform=featurize,
                      weights=lambda m: m.trainable_state_dict(), evaluate=evaluate if val_sources else None)
