"""Findings as generic plot marks for `anyecg plot --measure` (signal/plot draws times and labels only)."""

from __future__ import annotations

from anyecg.findings.types import EPISODE_KINDS, ECGFindings

WAVE_LABELS = {"p_on": "P(", "p_off": ")P", "qrs_on": "Q(", "qrs_off": ")J", "t_off": ")T"}


def plot_marks(findings: ECGFindings) -> tuple[list[tuple[float, str]], list[tuple[float, float, str]]]:
    """(time, label) marks for each beat's global wave onsets/offsets and (start, end, label) spans for the
    episodes; seconds from the start of the ECG that was read."""
    marks: list[tuple[float, str]] = []
    if findings.waves is not None:
        for key, label in WAVE_LABELS.items():
            marks += [(float(s) / findings.fs, label) for s in getattr(findings.waves, key) if s >= 0]
    spans = [(e.start_s, e.end_s, EPISODE_KINDS.get(e.kind, e.kind)) for e in findings.episodes]
    return sorted(marks), spans
