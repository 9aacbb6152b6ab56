"""The one key check for loading weights by name: missing, unexpected and mis-shaped keys are named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from anyecg.errors import ModelError


def check_keys(expected: Mapping[str, Tensor], given: Mapping[str, Tensor], source: Any = None, *,
               allow_missing: bool = False) -> list[str]:
    """The one key check: raise `ModelError` naming unexpected keys, mis-shaped keys and (unless
    `allow_missing`) missing keys of `given` against `expected`; return the missing keys."""
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    problems = []
    if missing and not allow_missing:
        problems.append(f"{len(missing)} missing ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected ({', '.join(unexpected[:3])}"
                        f"{', ...' if len(unexpected) > 3 else ''})")
    bad = [k for k in set(expected) & set(given) if tuple(expected[k].shape) != tuple(given[k].shape)]
    if bad:
        problems.append("shape mismatch for " + ", ".join(
            f"{k} {tuple(given[k].shape)} vs {tuple(expected[k].shape)}" for k in sorted(bad)[:3]))
    if problems:
        raise ModelError(f"weights do not match the model: {'; '.join(problems)}; was it trained with another "
                         f"model config?", source)
    return missing
