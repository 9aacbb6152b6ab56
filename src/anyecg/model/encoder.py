"""ECG ViT (official anyECG-chat `ecgvit.py`): 1 lead × 200 sample patches, lead + time-slot embeddings, [CLS].

Token embedding = stem(patch) + lead_emb[lead] + pos_emb[1 + time slot]; [CLS] gets pos_emb[0].
Patch order inside a clip is lead-major (lead 0 slots 0..4, lead 1 slots 0..4, ...), as in the official code.
Long ECGs: the clips of one ECG are encoded as one batch, their [CLS] outputs averaged and their patch tokens
concatenated in time order → 1 + 60·n_clips tokens (`encode_ecgs`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anyecg.errors import ModelError
from anyecg.leads import N_LEADS
from anyecg.model.config import PatchEncoderConfig
from anyecg.timebase import CLIP_SAMPLES


def n_ecg_tokens(n_clips: int, lead_mask: Sequence[bool] | Tensor | None, cfg: PatchEncoderConfig) -> int:
    """Number of encoder tokens one ECG yields, known before the model runs."""
    if cfg.tokens == "all" or lead_mask is None:
        return 1 + N_LEADS * cfg.patches_per_lead * n_clips
    n_present = int(sum(bool(m) for m in lead_mask))
    if n_present == 0:
        raise ModelError("an ECG with no present lead cannot be encoded (lead_mask is all False)")
    return 1 + n_present * cfg.patches_per_lead * n_clips


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, dim), nn.Dropout(dropout))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Attention(nn.Module):
    """Pre-norm multi-head self-attention; qkv without bias (official)."""

    def __init__(self, dim: int, heads: int, dim_head: int, dropout: float):
        super().__init__()
        inner = heads * dim_head
        self.heads = heads
        self.dropout = dropout
        self.norm = nn.LayerNorm(dim)
        self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
        project_out = not (heads == 1 and dim_head == dim)
        self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(dropout)) if project_out else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        b, n, _ = x.shape
        qkv = self.to_qkv(self.norm(x))  # (B, N, 3·H·Dh)
        q, k, v = qkv.view(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)  # 3 × (B, H, N, Dh)
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0)
        return self.to_out(out.transpose(1, 2).reshape(b, n, -1))  # (B, N, D)


class Block(nn.Module):
    def __init__(self, cfg: PatchEncoderConfig):
        super().__init__()
        self.attn = Attention(cfg.dim, cfg.heads, cfg.dim_head, cfg.dropout)
        self.ff = FeedForward(cfg.dim, cfg.mlp_dim, cfg.dropout)

    def forward(self, x: Tensor) -> Tensor:
        x = self.attn(x) + x
        return self.ff(x) + x


class LinearStem(nn.Module):
    """Paper stem: LayerNorm(patch) → Linear(patch, dim) → LayerNorm(dim)."""

    def __init__(self, patch: int, dim: int):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(patch), nn.Linear(patch, dim), nn.LayerNorm(dim))

    def forward(self, patches: Tensor) -> Tensor:
        return self.net(patches)  # (..., P) -> (..., D)


class ConvStem(nn.Module):
    """Option: two strided 1-D convolutions over each patch, then Linear → LayerNorm."""

    def __init__(self, patch: int, dim: int, channels: int = 32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv1d(1, channels, 10, stride=5), nn.GELU(),
                                  nn.Conv1d(channels, channels, 5, stride=5), nn.GELU())
        length = ((patch - 10) // 5 + 1 - 5) // 5 + 1
        self.proj = nn.Sequential(nn.Linear(channels * length, dim), nn.LayerNorm(dim))

    def forward(self, patches: Tensor) -> Tensor:
        lead_shape = patches.shape[:-1]
        x = self.conv(patches.reshape(-1, 1, patches.shape[-1]))  # (M, C, L)
        return self.proj(x.flatten(1)).view(*lead_shape, -1)  # (..., D)


STEM_BUILDERS = {"linear": LinearStem, "conv": ConvStem}


class ECGViT(nn.Module):
    """ViT over 12-lead, 10 s, 100 Hz clips. `encode` returns all tokens before the final norm."""

    def __init__(self, cfg: PatchEncoderConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        slots = cfg.patches_per_lead
        self.stem = STEM_BUILDERS[cfg.stem](cfg.patch_samples, cfg.dim)
        self.lead_emb = nn.Parameter(torch.randn(1, N_LEADS, 1, cfg.dim))  # one vector per lead
        self.pos_emb = nn.Parameter(torch.randn(1, slots + 1, cfg.dim))  # 0: CLS, 1..slots: time slot
        self.cls_token = nn.Parameter(torch.randn(cfg.dim))
        self.emb_dropout = nn.Dropout(cfg.emb_dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.dim)  # used by `forward` (contrastive head), not by `encode`

    @property
    def dim(self) -> int:
        return self.cfg.dim

    def encode(self, clips: Tensor, lead_mask: Tensor | None = None) -> Tensor:
        """clips (B, 12, 1000) → tokens (B, 1 + n_leads·5, D), unnormalised.

        With tokens "present_leads" and a `lead_mask` (12,) shared by the batch, the patch tokens of
        absent leads are dropped before the transformer.
        """
        b, n_leads, n_samples = clips.shape
        if n_leads != N_LEADS or n_samples != CLIP_SAMPLES:
            raise ModelError(f"encoder expects clips of shape (B, {N_LEADS}, {CLIP_SAMPLES}), "
                             f"got {tuple(clips.shape)}")
        patches = clips.view(b, N_LEADS, self.cfg.patches_per_lead, self.cfg.patch_samples)  # (B, 12, S, P)
        x = self.stem(patches) + self.lead_emb + self.pos_emb[:, None, 1:]  # (B, 12, S, D)
        if self.cfg.tokens == "present_leads" and lead_mask is not None:
            x = x[:, lead_mask.to(torch.bool)]  # (B, n_present, S, D)
        x = x.flatten(1, 2)  # (B, n_leads·S, D), lead-major
        cls = (self.cls_token + self.pos_emb[0, 0]).expand(b, 1, -1)  # (B, 1, D)
        x = self.emb_dropout(torch.cat([cls, x], dim=1))  # (B, 1 + n_leads·S, D)
        for block in self.blocks:
            x = block(x)
        return x

    def forward(self, clips: Tensor, lead_mask: Tensor | None = None) -> Tensor:
        """Normalised [CLS] embedding (B, D), for contrastive pretraining (stage 0)."""
        return self.norm(self.encode(clips, lead_mask)[:, 0])

    def encode_ecgs(self, clips: Tensor, clips_per_ecg: Sequence[int], lead_masks: Tensor | None = None
                    ) -> list[Tensor]:
        """clips (total_clips, 12, 1000) of several ECGs → one (n_tokens_i, D) tensor per ECG.

        Each ECG: [CLS] averaged over its clips, then its patch tokens in time order (clip 0, clip 1, ...).
        Mode "all" encodes every clip in one batch; "present_leads" one batch per distinct lead mask.
        """
        if sum(clips_per_ecg) != clips.shape[0]:
            raise ModelError(f"clips_per_ecg sums to {sum(clips_per_ecg)} but {clips.shape[0]} clips were given")
        if any(n <= 0 for n in clips_per_ecg):
            raise ModelError(f"every ECG needs at least one clip, got clips_per_ecg={list(clips_per_ecg)}")
        per_ecg_clips = clips.split(list(clips_per_ecg))
        if self.cfg.tokens == "all" or lead_masks is None:
            tokens = self.encode(clips).split(list(clips_per_ecg))  # each (n_clips_i, 61, D)
        else:
            tokens = [None] * len(clips_per_ecg)
            groups: dict[tuple[bool, ...], list[int]] = {}
            for i, mask in enumerate(lead_masks.tolist()):
                groups.setdefault(tuple(mask), []).append(i)
            for mask, members in groups.items():
                if not any(mask):
                    raise ModelError("an ECG with no present lead cannot be encoded (lead_mask is all False)")
                batch = torch.cat([per_ecg_clips[i] for i in members])  # (Σ n_clips, 12, 1000)
                out = self.encode(batch, torch.tensor(mask, device=clips.device))
                for i, t in zip(members, out.split([clips_per_ecg[i] for i in members]), strict=True):
                    tokens[i] = t
        return [torch.cat([t[:, 0].mean(0, keepdim=True), t[:, 1:].flatten(0, 1)]) for t in tokens]
