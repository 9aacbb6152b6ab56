"""Stages 1–3 through the Accelerate recipe on a tiny random Llama + tiny ECG ViT (seconds per test)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from anyecg.errors import AnyECGError
from anyecg.model.loading import load_checkpoint_model, load_exported
from anyecg.testing.synthetic import write_synthetic_dataset
from anyecg.train.checkpoint import latest_checkpoint
from anyecg.train.config import TrainConfig, config_from_dict
from anyecg.train.export import export_checkpoint
from anyecg.train.recipe import Recipe

TINY_MODEL = {"encoder": {"preset": "tiny", "dim": 32, "depth": 1, "heads": 2, "dim_head": 16, "mlp_dim": 64},
              "llm": "tiny", "max_length": 256}
TRAINABLE = {1: (True, True, False), 2: (True, True, True), 3: (False, True, True)}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_synthetic_dataset(tmp_path_factory.mktemp("syn"), n_records=6, n_leads=2)


def make_cfg(data, out, stage=2, **kw) -> TrainConfig:
    enc, conn, lora = TRAINABLE[stage]
    raw = {"stage": stage, "model": TINY_MODEL, "output_dir": str(out), "micro_batch_size": 2,
           "effective_batch_size": 2, "epochs": 1, "log_every": 1, "save_every": 0, "seed": 7,
           "trainable": {"encoder": enc, "connector": conn, "lora": lora},
           "data": {"sources": [{"path": str(data["report"])}, {"path": str(data["localization"])}],
                    "shuffle_buffer": 4},
           "optim": {"lr": 1e-3, "warmup_ratio": 0.0}}
    raw.update(kw)
    return config_from_dict(raw)


def losses(out) -> list[float]:
    return [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_frozen_parts_bit_identical_after_a_step(data, tmp_path, stage):
    recipe = Recipe(make_cfg(data, tmp_path, stage=stage, max_steps=1))
    recipe.setup()
    model = recipe.parts.model
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    recipe.train()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert changed and changed <= trainable
    enc, conn, lora = TRAINABLE[stage]
    assert any(n.startswith("ecg_encoder.") for n in changed) == enc
    assert any(n.startswith("connector.") for n in changed) == conn
    assert any("lora_B" in n for n in changed) == lora
    assert not any(n.startswith("llm.") and "lora_" not in n for n in changed)


def test_overfits_a_fixed_batch(data, tmp_path):
    lora = {"dropout": 0.0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                               "down_proj"]}
    recipe = Recipe(make_cfg(data, tmp_path, stage=2, max_steps=1, model={**TINY_MODEL, "lora": lora},
                             optim={"lr": 1e-2, "warmup_ratio": 0.0}))
    recipe.setup()
    recipe.train_mode()
    samples = [json.loads(data["localization"].read_text().splitlines()[0])] * 2
    fixed = recipe.parts.collate(samples)
    fixed.pop("n_samples"), fixed.pop("n_skipped")
    batch = recipe._to_device(fixed)
    history = []
    for _ in range(25):
        loss = recipe.loss_step(batch)
        loss.backward()
        recipe.optimizer.step()
        recipe.optimizer.zero_grad()
        history.append(loss.item())
    assert history[-1] <= 0.1 * history[0], (history[0], history[-1])


def test_resume_continues_to_the_same_loss(data, tmp_path):
    straight = tmp_path / "straight"
    recipe = Recipe(make_cfg(data, straight, max_steps=5))
    recipe.setup()
    recipe.train()
    interrupted = tmp_path / "interrupted"
    first = Recipe(make_cfg(data, interrupted, max_steps=5))
    first.setup()
    first.train(stop_at=3)  # leaves step-3 as if the run had been killed there
    assert latest_checkpoint(interrupted).name == "step-3"
    second = Recipe(make_cfg(data, interrupted, max_steps=5), resume=True)
    second.setup()
    assert (second.global_step, second.batch_in_epoch) == (3, 3)
    second.train()
    assert losses(interrupted) == pytest.approx(losses(straight), rel=1e-6, abs=1e-7)
    a = torch.load(interrupted / "step-3" / "rng_0.pt", weights_only=True)
    assert "torch" in a


def test_checkpoint_reload_and_export_give_identical_logits(data, tmp_path):
    recipe = Recipe(make_cfg(data, tmp_path / "run", max_steps=2))
    recipe.setup()
    recipe.train()
    trained = recipe.parts.model.eval()
    sample = json.loads(data["report"].read_text().splitlines()[1])
    batch = trained.processor()([sample["conversation"]], [recipe.parts.collate.loader(sample)])
    # The output-head rows of the 3 added ECG tokens are re-drawn at random on every model build
    # (transformers' mean_resizing); they are never targets, so compare the original vocabulary.
    vocab = trained.tokens.start_id
    with torch.no_grad():
        want = trained(**batch).logits[..., :vocab]
        reloaded = load_checkpoint_model(tmp_path / "run" / "final").eval()
        assert torch.equal(reloaded(**batch).logits[..., :vocab], want)
        out = export_checkpoint(tmp_path / "run" / "final", tmp_path / "exported")
        exported = load_exported(out).eval()
        torch.testing.assert_close(exported(**batch).logits[..., :vocab], want, rtol=1e-4, atol=1e-4)
    assert not any("lora_" in n for n, _ in exported.named_parameters())


def test_nan_loss_stops_with_a_clear_error_and_saves_nothing(data, tmp_path, monkeypatch):
    recipe = Recipe(make_cfg(data, tmp_path, max_steps=3, save_every=1))
    recipe.setup()
    calls = {"n": 0}
    real = recipe.loss_step

    def nan_on_second(batch):
        calls["n"] += 1
        loss = real(batch)
        return loss * math.nan if calls["n"] == 2 else loss

    monkeypatch.setattr(recipe, "loss_step", nan_on_second)
    with pytest.raises(AnyECGError, match="training loss is nan at step 2"):
        recipe.train()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["step-1"]
