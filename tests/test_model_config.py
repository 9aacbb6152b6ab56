"""Model config: presets, YAML round trip, validation, every shipped configs/model/*.yaml loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from anyecg.errors import ConfigError
from anyecg.model.config import BeatsEncoderConfig, ModelConfig, PatchEncoderConfig, encoder_preset

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
    cfg = ModelConfig(encoder=encoder_preset("tiny", stem="conv", tokens="present_leads"), llm="tiny")
    cfg.to_yaml(tmp_path / "m.yaml")
    assert ModelConfig.from_yaml(tmp_path / "m.yaml") == cfg


@pytest.mark.parametrize("text, match", [
    ("encoder: {preset: tiny, stem: fft}", "encoder.stem"),
    ("encoder: {preset: tiny, patch_samples: 300}", "patch_samples"),
    ("connector: transformer", "connector"),
    ("dtype: int8", "dtype"),
    ("lora: {r: 0}", "lora.r"),
    ("lroa: {r: 8}", "bad model config"),
    ("encoder: {kind: beats, dim: 192}", r"encoder \(kind beats\).*dim"),  # a beat encoder has no ViT sizes
    ("encoder: {kind: wavelets}", "encoder.kind must be one of patches, beats"),
    ("encoder: {kind: beats, hints: maybe}", "encoder.hints"),
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
        PatchEncoderConfig(dropout=1.5).validate()


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    cfg = ModelConfig.from_yaml(path)
    cfg.validate()


def test_encoder_is_a_tagged_union_and_reads_the_flat_legacy_section(tmp_path):
    beats = ModelConfig(encoder=BeatsEncoderConfig(hints=True), llm="tiny")
    beats.to_yaml(tmp_path / "b.yaml")
    assert "kind: beats" in (tmp_path / "b.yaml").read_text() and ModelConfig.from_yaml(tmp_path / "b.yaml") == beats
    legacy = ("encoder: {dim: 192, depth: 4, heads: 4, dim_head: 48, mlp_dim: 768, dropout: 0.1, emb_dropout: 0.1,"
              " patch_samples: 200, stem: linear, token_mode: %s, beat_weights: null, beat_hints: %s}\nllm: tiny\n")
    (tmp_path / "old_beats.yaml").write_text(legacy % ("beats", "true"))
    assert ModelConfig.from_yaml(tmp_path / "old_beats.yaml").encoder == BeatsEncoderConfig(hints=True)
    (tmp_path / "old_patches.yaml").write_text(legacy % ("present_leads", "false"))
    assert ModelConfig.from_yaml(tmp_path / "old_patches.yaml").encoder == encoder_preset("tiny", tokens="present_leads")
