"""What every source adapter shares: the unit of work, the build context, fixed splits, seeded RNGs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from anyecg.data.schema import Sample


@dataclass(frozen=True)
class Unit:
    """One ECG recording known to a source, described without decoding its signal.

    key: the record id inside the source ('100', 'A0001', '6001'); ref: `SOURCE:REL` path of its waveform;
    group: what a split is decided on (patient when known, else the record); patient/time: for MultiECG;
    labels: diagnosis names; report: the database's own report lines (PTB-XL, MIMIC); extra: adapter fields.
    """

    source: str
    key: str
    ref: str
    split: str
    group: str
    patient: str | None = None
    time: str | None = None  # ISO date-time
    labels: tuple[str, ...] = ()
    report: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


@dataclass
class ShardResult:
    """What one shard produced: samples, plus the records it skipped and why."""

    samples: list[Sample] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (source, record, reason)
    issues: list[tuple[str, str, str]] = field(default_factory=list)  # used, with a problem worth reporting
    rejected: dict[str, int] = field(default_factory=dict)  # windows left out, by reason
    records: int = 0


@dataclass
class Plan:
    """A source's records, the records it cannot use (with reasons), and notes for the manifest."""

    units: list[Unit] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    split_rule: str = ""
    version: str = ""

    def __iter__(self) -> Iterator[Unit]:
        return iter(self.units)


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that is the same on every run and machine (unlike `hash`)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def unit_fraction(*parts: object) -> float:
    """A fixed number in [0, 1) for these parts: for subsampling and hash splits."""
    return stable_hash(*parts) / 2**64


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """The RNG of one piece of work: depends only on the seed and the piece, never on worker order."""
    return np.random.default_rng([seed & 0xFFFFFFFF, stable_hash(*parts) & 0xFFFFFFFFFFFF])


def hash_split(group: str, test: float = 0.1, valid: float = 0.1) -> str:
    """A fixed split from the group name alone (same for every seed)."""
    u = unit_fraction("split", group)
    return "test" if u < test else "valid" if u < test + valid else "train"


def ptbxl_fold_split(fold: int) -> str:
    """PTB-XL's recommended split: folds 1-8 train, 9 valid, 10 test."""
    return "test" if fold == 10 else "valid" if fold == 9 else "train"
