"""Model config: presets, YAML round trip, validation, every shipped configs/model/*.yaml loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from anyecg.errors import ConfigError
from anyecg.model.config import EncoderConfig, ModelConfig, encoder_preset

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "model"


def test_presets():
    paper = encoder_preset("paper")
    assert (paper.dim, paper.depth, paper.heads, paper.dim_head, paper.mlp_dim, paper.dropout) == (
        768, 12, 12, 64, 3072, 0.1)
    assert paper.tokens_per_clip == 61
    assert encoder_preset("tiny", depth=2).depth == 2
    with pytest.raises(ConfigError, match="unknown encoder preset"):
        encoder_preset("huge")


def test_yaml_round_trip(tmp_path):
    cfg = ModelConfig(encoder=encoder_preset("tiny", stem="conv", token_mode="present_leads"), llm="tiny")
    cfg.to_yaml(tmp_path / "m.yaml")
    assert ModelConfig.from_yaml(tmp_path / "m.yaml") == cfg


@pytest.mark.parametrize("text, match", [
    ("encoder: {preset: tiny, stem: fft}", "encoder.stem"),
    ("encoder: {preset: tiny, patch_samples: 300}", "patch_samples"),
    ("connector: transformer", "connector"),
    ("dtype: int8", "dtype"),
    ("lora: {r: 0}", "lora.r"),
    ("lroa: {r: 8}", "bad model config"),
    ("- a list", "mapping"),
])
def test_invalid_configs_raise(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as err:
        ModelConfig.from_yaml(path)
    assert str(path) in str(err.value)


def test_validate_encoder_values():
    with pytest.raises(ConfigError, match="dropout"):
        EncoderConfig(dropout=1.5).validate()


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    cfg = ModelConfig.from_yaml(path)
    cfg.validate()
