"""`anyecg.model.loading`: one strict loader for stage checkpoints and exports; the one key check."""

from __future__ import annotations

import logging

import pytest
import torch
from safetensors.torch import load_file, save_file

from anyecg.errors import ModelError
from anyecg.model.loading import WEIGHTS, load_model, read_model
from anyecg.model.state import check_keys
from anyecg.testing.server import tiny_checkpoint
from anyecg.train.checkpoint import init_weights


def test_check_keys_names_missing_unexpected_and_misshaped():
    want = {"a": torch.zeros(2), "b": torch.zeros(3), "c": torch.zeros(1)}
    with pytest.raises(ModelError, match=r"1 missing \(b\); 1 unexpected \(z\); shape mismatch for c \(2,\) vs \(1,\)"):
        check_keys(want, {"a": torch.zeros(2), "c": torch.zeros(2), "z": torch.zeros(1)}, "x.safetensors")
    assert check_keys(want, {"a": torch.zeros(2)}, allow_missing=True) == ["b", "c"]


def test_stage_checkpoint_loads_strictly_and_for_inference(tmp_path):
    ckpt = tiny_checkpoint(tmp_path / "ckpt")
    model = load_model(ckpt, "cpu")
    assert not model.training and (model.lora_merged or not model.cfg.lora.enabled)
    weights = load_file(str(ckpt / WEIGHTS))
    name = next(k for k in weights if k.startswith("connector."))
    weights.pop(name)
    save_file(weights, str(ckpt / WEIGHTS))
    with pytest.raises(ModelError, match=rf"1 missing \({name}\)"):
        read_model(ckpt)  # was a silent non-strict load


def test_init_weights_names_trainable_weights_it_leaves(tmp_path, caplog):
    ckpt = tiny_checkpoint(tmp_path / "ckpt")
    model = read_model(ckpt)
    weights = {k: v for k, v in load_file(str(ckpt / WEIGHTS)).items() if not k.startswith("connector.")}
    with caplog.at_level(logging.INFO, logger="anyecg.train.checkpoint"):
        assert init_weights(model, weights, source=ckpt) == len(weights)
    assert "connector.0.weight" in caplog.text
    with pytest.raises(ModelError, match=r"1 unexpected \(nowhere.weight\)"):
        init_weights(model, {**weights, "nowhere.weight": torch.zeros(1)})


def test_shipped_weights_read_the_same_from_the_pre_kinds_config(tmp_path):
    """The embedded checkpoint's config was converted from the flat pre-kinds encoder section; a checkpoint that
    still has it (every checkpoint trained before the kinds) reads to the same model config."""
    from anyecg.chat import EMBEDDED_DIR
    from anyecg.model.config import BeatsEncoderConfig
    from anyecg.model.loading import CONFIG, checkpoint_model_config

    text = (EMBEDDED_DIR / CONFIG).read_text()
    new = text[text.index("  encoder:"):text.index("  connector:")]
    old = ("  encoder:\n    dim: 192\n    depth: 4\n    heads: 4\n    dim_head: 48\n    mlp_dim: 768\n    dropout: 0.1\n"
           "    emb_dropout: 0.1\n    patch_samples: 200\n    stem: linear\n    token_mode: beats\n"
           "    beat_weights: null\n    beat_hints: true\n")
    (tmp_path / CONFIG).write_text(text.replace(new, old))
    shipped = checkpoint_model_config(EMBEDDED_DIR)
    assert shipped.encoder == BeatsEncoderConfig(weights=None, hints=True)
    assert checkpoint_model_config(tmp_path) == shipped
