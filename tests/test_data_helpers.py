"""Generated WFDB / CSV fixtures for the data-builder tests (written in tmp dirs, never committed data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import wfdb


def write_holter(directory: Path, name: str, *, fs: int = 250, seconds: int = 120, seed: int = 0,
                 symbols: str = "NNNVNNANNSNNVN", rhythm: tuple[tuple[float, str], ...] = ((0.0, "(N"), (50.0, "(AFIB")),
                 st: tuple[float, float] | None = (20.0, 40.0), unknown: bool = False) -> None:
    """A two-lead record with beats every 0.8 s (symbols cycled), rhythm changes and one ST episode."""
    rng = np.random.default_rng(seed)
    n = fs * seconds
    t = np.arange(n) / fs
    sig = np.stack([np.sin(2 * np.pi * 1.2 * t), np.cos(2 * np.pi * 1.2 * t)], axis=1) + 0.01 * rng.standard_normal((n, 2))
    wfdb.wrsamp(name, fs=fs, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=sig, fmt=["16", "16"],
                write_dir=str(directory))
    notes: list[tuple[int, str, str]] = []
    for i, s in enumerate(range(int(0.4 * fs), n - fs // 2, int(0.8 * fs))):
        notes.append((s, symbols[i % len(symbols)], ""))
    for start_s, label in rhythm:
        notes.append((int(start_s * fs) + 1, "+", label))
    if st:
        notes += [(int(st[0] * fs) + 2, "s", "(ST0-"), (int(st[1] * fs) + 2, "s", "ST0-)")]
    if unknown:
        notes.append((int(5 * fs) + 3, "Z", ""))  # a code outside the WFDB table
    notes.sort()
    wfdb.wrann(name, "atr", np.array([x[0] for x in notes]), [x[1] for x in notes],
               aux_note=[x[2] for x in notes], write_dir=str(directory),
               custom_labels=[(42, "Z", "custom label")] if unknown else None)
    index = directory / "RECORDS"
    names = set(index.read_text().split()) if index.is_file() else set()
    index.write_text("\n".join(sorted(names | {name})) + "\n")


def write_twelve_lead(directory: Path, name: str, dx: str, *, fs: int = 500, seconds: int = 10, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    sig = rng.standard_normal((fs * seconds, 12)) * 0.1
    leads = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    wfdb.wrsamp(name, fs=fs, units=["mV"] * 12, sig_name=leads, p_signal=sig, fmt=["16"] * 12,
                write_dir=str(directory), comments=["Age: 60", "Sex: Male", f"Dx: {dx}"])
