"""Stage 0: CLIP / SigLIP losses, and a tiny contrastive run whose held-out recall@1 beats chance."""

from __future__ import annotations

import pytest
import torch

from anyecg.testing.synthetic import write_synthetic_dataset
from anyecg.train.config import config_from_dict
from anyecg.train.contrastive import clip_loss, default_text_encoder_path, siglip_loss
from anyecg.train.recipe import Recipe


def test_losses_reward_matching_pairs():
    torch.manual_seed(0)
    e = torch.nn.functional.normalize(torch.randn(6, 8), dim=-1)
    same = torch.eye(6, dtype=torch.bool)
    scale, bias = torch.tensor(2.3), torch.tensor(-1.0)
    shuffled = e[torch.randperm(6)]
    assert clip_loss(e, e, same, scale) < clip_loss(e, shuffled, same, scale)
    assert siglip_loss(e, e, same, scale, bias) < siglip_loss(e, shuffled, same, scale, bias)
    dup = same.clone()
    dup[0, 1] = dup[1, 0] = True  # identical reports are positives, not negatives
    twin = e.clone()
    twin[1] = twin[0]
    assert siglip_loss(twin, twin, dup, scale, bias) < siglip_loss(twin, twin, same, scale, bias)


def test_default_text_encoder_ships_in_its_package():
    assert (default_text_encoder_path() / "modules.json").is_file()


@pytest.mark.parametrize("loss", ["clip"])
def test_stage0_recall_above_chance(tmp_path, loss):
    data = write_synthetic_dataset(tmp_path / "syn", n_records=48, n_leads=12, seed=3)
    raw = {"stage": 0, "output_dir": str(tmp_path / "run"), "seed": 0, "epochs": 12,
           "model": {"encoder": {"preset": "tiny", "dim": 32, "depth": 1, "heads": 2, "dim_head": 16,
                                 "mlp_dim": 64, "dropout": 0.0, "emb_dropout": 0.0}, "llm": "tiny"},
           "trainable": {"encoder": True, "connector": False, "lora": False},
           "contrastive": {"loss": loss, "val_fraction": 0.25},
           "data": {"sources": [{"path": str(data["report"])}], "shuffle_buffer": 64},
           "micro_batch_size": 12, "effective_batch_size": 12, "log_every": 5, "save_every": 0,
           "optim": {"lr": 5e-3, "warmup_ratio": 0.05}}
    recipe = Recipe(config_from_dict(raw))
    recipe.setup()
    metrics = recipe.train()
    assert metrics["n_reports"] == 4 and metrics["n_val"] >= 6
    assert metrics["recall@1"] > metrics["chance@1"] + 0.15, metrics
    assert metrics["recall@5"] == 1.0  # only 4 distinct reports
    weights = (tmp_path / "run" / "final" / "model.safetensors")
    assert weights.is_file()
