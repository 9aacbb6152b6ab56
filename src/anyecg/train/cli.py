"""`anyecg train | pretrain | export | dryrun`: thin shells over the recipe, export and dry-run APIs."""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

import yaml

from anyecg.errors import ConfigError


def add_commands(sub: argparse._SubParsersAction) -> None:
    for name, help_text in (("train", "run a training stage (0-3) from its YAML config"),
                            ("pretrain", "stage 0: contrastive ECG-report pretraining of the encoder")):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("config", help="stage YAML, e.g. configs/train/embedded_stage1.yaml")
        p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                       help="config overrides, e.g. optim.lr=5e-5 data.num_workers=0")
        p.add_argument("--resume", action="store_true", help="continue from the latest step checkpoint")
        p.add_argument("--max-steps", type=int, help="optimizer steps (sets max_steps)")
        p.add_argument("--out", help="output directory (sets output_dir)")
        p.set_defaults(func=_train, pretrain=name == "pretrain")

    p = sub.add_parser("export", help="merge a stage checkpoint's LoRA into a loadable model directory")
    p.add_argument("checkpoint", help="a stage 1-3 checkpoint directory, e.g. runs/embedded_stage3/final")
    p.add_argument("--out", required=True, help="model directory to write")
    p.set_defaults(func=_export)

    p = sub.add_parser("dryrun", help="paper-size model on the meta device: parameters and per-GPU memory")
    p.add_argument("--config", default="configs/train/paper_stage2.yaml", help="stage YAML or model YAML")
    p.add_argument("--gpus", type=int, default=8)
    p.set_defaults(func=_dryrun)


def _train(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from anyecg.train.config import load_config
    from anyecg.train.recipe import recipe_main

    overrides = list(args.overrides)
    if args.max_steps is not None:
        overrides.append(f"max_steps={args.max_steps}")
    if args.out:
        overrides.append(f"output_dir={args.out}")
    cfg = load_config(args.config, overrides)
    if args.pretrain and cfg.stage != 0:
        raise ConfigError(f"pretrain runs stage 0 but the config says stage {cfg.stage}", args.config)
    metrics = recipe_main(cfg, resume=args.resume)
    print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()))
    return 0


def _export(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from anyecg.train.export import export_checkpoint

    print(export_checkpoint(args.checkpoint, args.out))
    return 0


def _dryrun(args: argparse.Namespace) -> int:
    from anyecg.model import dryrun

    try:
        data = yaml.safe_load(Path(args.config).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"cannot read config: {err}", args.config) from None
    if not isinstance(data, dict):
        raise ConfigError("config must be a YAML mapping", args.config)
    argv = ["--gpus", str(args.gpus)]
    if "stage" not in data:  # a model YAML
        return dryrun.main([*argv, "--config", args.config])
    argv += ["--micro-batch", str(data.get("micro_batch_size", 8))]
    model = data.get("model")
    if isinstance(model, str):
        return dryrun.main([*argv, "--config", model])
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        yaml.safe_dump(model, f)
        f.flush()
        return dryrun.main([*argv, "--config", f.name])
