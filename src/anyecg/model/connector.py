"""Connector: ECG encoder tokens → LLM embedding space, applied per token (official: 768→4096→GELU→4096)."""

from __future__ import annotations

from torch import nn

from anyecg.errors import ConfigError
from anyecg.model.config import ModelConfig


def _init_normal(module: nn.Module, std: float = 0.02) -> None:
    """Official init: every weight and bias ~ N(0, 0.02)."""
    for p in module.parameters():
        nn.init.normal_(p, std=std)


def build_connector(cfg: ModelConfig, in_dim: int, out_dim: int) -> nn.Module:
    """`mlp2x_gelu` (paper): Linear(in, hidden) → GELU → Linear(hidden, out); `linear`: one Linear."""
    hidden = cfg.connector_hidden or out_dim
    if cfg.connector == "mlp2x_gelu":
        net: nn.Module = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))
    elif cfg.connector == "linear":
        net = nn.Linear(in_dim, out_dim)
    else:
        raise ConfigError(f"unknown connector {cfg.connector!r}; known: mlp2x_gelu, linear")
    _init_normal(net)
    return net
