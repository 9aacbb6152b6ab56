"""Every shipped training YAML loads and validates; overrides and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from anyecg.errors import ConfigError
from anyecg.train.config import load_config
from anyecg.train.recipe import resolve_model_config

ROOT = Path(__file__).resolve().parents[1]
TRAIN_CONFIGS = sorted((ROOT / "configs" / "train").glob("*.yaml"))
ACCEL_CONFIGS = sorted((ROOT / "configs" / "accelerate").glob("*.yaml"))


def test_all_configs_shipped():
    names = {p.stem for p in TRAIN_CONFIGS}
    assert {f"{kind}_stage{n}" for kind in ("embedded", "paper") for n in range(4)} <= names
    assert {p.stem for p in ACCEL_CONFIGS} >= {"deepspeed_zero2", "deepspeed_zero3", "fsdp"}


@pytest.mark.parametrize("path", TRAIN_CONFIGS, ids=lambda p: p.stem)
def test_train_config_valid(path: Path, monkeypatch):
    monkeypatch.chdir(ROOT)  # model paths are relative to the repo root
    cfg = load_config(path)
    staged = "_stage" in path.stem  # the curriculum configs; others (embedded_beats) name their stage inside
    if staged:
        assert cfg.stage == int(path.stem[-1])
    model_cfg = resolve_model_config(cfg.model)
    model_cfg.validate()
    if cfg.stage > 0:
        cfg.grad_accum_steps(1)
        if staged:
            assert cfg.init_from and f"stage{cfg.stage - 1}" in cfg.init_from
    expected = {1: (True, True, False), 2: (True, True, True), 3: (False, True, True)}.get(cfg.stage)
    t = cfg.trainable
    if expected and t.lora_from_layer == 0:  # an upper-layers-only fine-tune (release 3 on CPU) freezes the connector
        assert (t.encoder, t.connector, t.lora) == expected  # DESIGN.md table
    elif expected:
        assert (t.encoder, t.connector, t.lora) == (False, False, True) and cfg.stage == 3


@pytest.mark.parametrize("stage,batch,epochs", [(1, 256, 2), (2, 64, 2), (3, 64, 1)])
def test_paper_table3(stage, batch, epochs):
    cfg = load_config(ROOT / "configs" / "train" / f"paper_stage{stage}.yaml")
    assert (cfg.optim.lr, cfg.effective_batch_size, cfg.epochs) == (1e-4, batch, epochs)
    assert cfg.optim.weight_decay == 1e-4 and cfg.mixed_precision == "bf16"
    assert cfg.grad_accum_steps(8) == batch // (8 * cfg.micro_batch_size)
    if stage == 3:
        weights = {Path(s.path).stem: s.weight for s in cfg.data.sources}
        assert weights["ecgqa_train"] == 0.1 and weights["report_train"] == 1.0  # replay + ECG-QA at 10%


@pytest.mark.parametrize("path", ACCEL_CONFIGS, ids=lambda p: p.stem)
def test_accelerate_config_valid(path: Path):
    from accelerate.commands.config.config_args import load_config_from_file

    cfg = load_config_from_file(str(path))
    assert cfg.mixed_precision == "bf16" and cfg.distributed_type.name in ("DEEPSPEED", "FSDP")


def test_overrides_and_errors(tmp_path):
    path = ROOT / "configs" / "train" / "embedded_stage2.yaml"
    cfg = load_config(path, ["optim.lr=5e-5", "micro_batch_size=4", "data.num_workers=0", "max_steps=3"])
    assert (cfg.optim.lr, cfg.micro_batch_size, cfg.data.num_workers, cfg.max_steps) == (5e-5, 4, 0, 3)
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(path, ["optim.learning_rate=1"])
    with pytest.raises(ConfigError, match="must be int"):
        load_config(path, ["epochs=two"])
    with pytest.raises(ConfigError, match="not a multiple"):
        load_config(path, ["micro_batch_size=5"]).grad_accum_steps(1)
    with pytest.raises(ConfigError, match="stage 0 trains only"):
        load_config(path, ["stage=0"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("stage: [")
    with pytest.raises(ConfigError, match=r"bad\.yaml"):
        load_config(bad)
