"""Localization answered from the findings, not the LLM: rhythm targets of `locate --what AF` and of scan, and the
findings' side of the checks (`target_intervals`).

A rhythm target (`anyecg.targets.Target` of kind "rhythm": '(AFIB', '(AFL', '(VT', '(SVTA', '(B', '(T', '(N',
'(SBR', '(PAUSE') maps to episode kinds of `anyecg.findings.rhythm`; the episodes of a window's findings,
clipped to the window and merged, are the answer's intervals (`Duration: a s-b s`, `format_answer`).
"""

from __future__ import annotations

from collections.abc import Sequence

from anyecg.findings.types import EPISODE_KINDS, SINUS_KINDS, ECGFindings
from anyecg.signal.beats import CLASS_SYMBOL
from anyecg.signal.intervals import Interval, beat_intervals, merge_intervals
from anyecg.timebase import to_samples

# rhythm target key (`anyecg.targets`) → the episode kinds that answer it
TARGET_EPISODES: dict[str, tuple[str, ...]] = {
    "(AFIB": ("AF",), "(AFL": ("AFL",), "(VT": ("VT",), "(SVTA": ("SVT",), "(B": ("bigeminy",),
    "(T": ("trigeminy",), "(N": SINUS_KINDS, "(SBR": ("sinus_brady",),
    "(PAUSE": ("pause",), "(P": ("paced",),
}


def episode_intervals(findings: ECGFindings, kinds: Sequence[str], start_s: float = 0.0,
                      end_s: float | None = None) -> list[Interval]:
    """Episodes of these kinds within [start_s, end_s) of the findings' own clock, in seconds from start_s,
    clipped and merged."""
    end = findings.duration_s if end_s is None else end_s
    raw = [(max(e.start_s, start_s) - start_s, min(e.end_s, end) - start_s)
           for e in findings.episodes if e.kind in kinds and e.end_s > start_s and e.start_s < end]
    return merge_intervals([(a, b) for a, b in raw if b > a or b == a])


def target_intervals(findings: ECGFindings, target: str) -> list[Interval] | None:
    """What the findings localize for a target, in the paper's format (seconds from the ECG's start, 0.1 s): an
    episode kind ('AF', 'pause') from the episodes, a WFDB beat symbol ('V', 'A') by the paper's interval rule on
    the classified beats; None when the findings cannot say (no beat classes)."""
    if target in EPISODE_KINDS:
        spans = [(round(a, 1), round(b, 1)) for a, b in episode_intervals(findings, (target,))]
        return [(a, b) for a, b in spans if b > a]
    if not findings.beat_classes:
        return None
    symbols = [CLASS_SYMBOL.get(c, "/" if c == "P" else "~") for c in findings.beat_classes]  # P: paced
    if target not in symbols and target not in CLASS_SYMBOL.values():
        return None
    samples = [to_samples(t, findings.fs) for t in findings.beat_times_s]
    return beat_intervals(samples, symbols, target, 0, to_samples(findings.duration_s, findings.fs), findings.fs)


def read_intervals(findings: ECGFindings, key: str) -> list[Interval] | None:
    """What the machine read localizes for a `locate` target key: a rhythm target ('(AFIB', '(N') from the
    episodes of all its kinds, anything else by `target_intervals`. `locate --engine findings` answers with it
    and the checks compare a model's localization with it."""
    kinds = TARGET_EPISODES.get(key)
    return episode_intervals(findings, kinds) if kinds is not None else target_intervals(findings, key)

