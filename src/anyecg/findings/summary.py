"""What a machine read says, in the words answers use: the rhythm family, regularity, the findings present, ectopic
counts, and the text block the model reads beside each ECG's tokens (`findings_text`, `comparison_text`).

One place for these readings: the model's prompt (`ModelConfig.findings`), the findings-only answerer of the question
set and the checks all call them, so an answer copied from the block grades and checks as the block reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from anyecg.findings.locate import target_intervals
from anyecg.findings.types import EPISODE_KINDS, SINUS_KINDS, ECGFindings
from anyecg.signal.beats import CLASS_SYMBOL
from anyecg.signal.intervals import format_answer
from anyecg.vocabulary import COMPARABLE, ECTOPY, FAMILY_NAME, RHYTHM_FAMILY, lower

RATE_SAME = 0.05  # |relative rate change| ≤ 5 %: about the same
RATE_CHANGED = 0.15  # |relative rate change| ≥ 15 %: surely faster/slower (not "about the same")
MIN_CONFIDENCE = 0.5  # a findings statement counts as present from this confidence
AF_SHARE = 0.3  # AF episodes over this share of the ECG: atrial fibrillation
RR_CV_IRREGULAR = 0.10  # RR coefficient of variation above which a rhythm reads irregular
ECTOPY_CLASS = {"Premature ventricular contraction": "V", "Premature atrial contraction": "S"}
MAX_LISTED_BEATS = 10  # beat times written per ectopic class; the rest are counted
AXIS_LIMITS = (-30.0, 90.0)  # below: left axis deviation, above: right (AHA)
assert set(ECTOPY_CLASS) == set(ECTOPY)


def has_finding(f: ECGFindings, name: str) -> bool:
    """Whether the read holds a vocabulary name: ectopy from the beat classes (which `read_findings` makes agree
    with its statements), AF also from its episodes, the rest from a statement of at least MIN_CONFIDENCE."""
    if name in ECTOPY_CLASS and f.beat_classes:
        return ECTOPY_CLASS[name] in f.beat_classes
    if name == "Atrial fibrillation" and f.duration_s and \
            sum(e.duration_s for e in f.episodes_of("AF")) / f.duration_s >= AF_SHARE:
        return True
    s = f.statement(name)
    return s is not None and s.confidence >= MIN_CONFIDENCE


def rhythm_family(f: ECGFindings) -> str:
    """The rhythm family (`anyecg.vocabulary.RHYTHM_FAMILY`) of the most confident rhythm statement; sinus when
    none is made. AF comes first (from its statement or its episodes), except beside a more confident atrial
    flutter: flutter with a varying block is irregular without P waves too, and its regular F waves are what tell
    it from AF."""
    flutter, af = f.statement("Atrial flutter"), f.statement("Atrial fibrillation")
    if flutter is not None and flutter.confidence >= MIN_CONFIDENCE and \
            flutter.confidence >= (af.confidence if af is not None else 0.0):
        return RHYTHM_FAMILY["Atrial flutter"]
    if has_finding(f, "Atrial fibrillation"):
        return "af"
    rhythms = [s for s in f.statements if s.name in RHYTHM_FAMILY and s.confidence >= MIN_CONFIDENCE]
    return RHYTHM_FAMILY[max(rhythms, key=lambda s: s.confidence).name] if rhythms else "sinus"


def is_irregular(f: ECGFindings) -> bool:
    m = f.measurements
    return rhythm_family(f) == "af" or (m.rr_cv is not None and m.rr_cv > RR_CV_IRREGULAR) \
        or any(c in ECTOPY_CLASS.values() for c in f.beat_classes)


def ectopic_count(f: ECGFindings, name: str) -> int | None:
    """Beats of an ECTOPY name; None when the read has no beat classes."""
    return sum(c == ECTOPY_CLASS[name] for c in f.beat_classes) if f.beat_classes else None


def axis_word(axis_deg: float) -> str:
    lo, hi = AXIS_LIMITS
    return "Left axis deviation" if axis_deg < lo else "Right axis deviation" if axis_deg > hi else "Normal axis"


def _ms(label: str, value: float | None) -> str | None:
    return None if value is None else f"{label} {value:.0f} ms"


def findings_text(f: ECGFindings) -> str:
    """The machine read as one short paragraph (the text block after an ECG's tokens): beats, rate, regularity,
    rhythm, intervals, axis, ectopic beats with their times and their intervals in the paper's answer format
    (`Duration: a s-b s`, by the paper's label rule), other statements, rhythm episodes and notes."""
    m = f.measurements
    parts = [f"Machine read: {f.n_beats} beats in {f.duration_s:.1f} s."]
    if m.heart_rate_bpm is not None:
        cv = "" if m.rr_cv is None else f" (RR CV {m.rr_cv:.2f})"
        parts.append(f"Heart rate {m.heart_rate_bpm:.0f} bpm, {'irregular' if is_irregular(f) else 'regular'}{cv}.")
    if f.n_beats:
        parts.append(f"Rhythm: {lower(FAMILY_NAME[rhythm_family(f)])}.")
    intervals = [s for s in (_ms("PR", m.pr_ms), _ms("QRS", m.qrs_ms), _ms("QT", m.qt_ms), _ms("QTc", m.qtc_ms))
                 if s]
    if intervals:
        parts.append(", ".join(intervals) + ".")
    if m.qrs_axis_deg is not None and f.lead_positions_known:
        parts.append(f"QRS axis {m.qrs_axis_deg:.0f}° ({lower(axis_word(m.qrs_axis_deg))}).")
    for name, cls in ECTOPY_CLASS.items():
        if not f.beat_classes:
            break
        times = [t for t, c in zip(f.beat_times_s, f.beat_classes, strict=False) if c == cls]
        if not times:
            parts.append(f"{name}s: 0.")
            continue
        listed = ", ".join(f"{t:.1f} s" for t in times[:MAX_LISTED_BEATS])
        more = f" and {len(times) - MAX_LISTED_BEATS} more" if len(times) > MAX_LISTED_BEATS else ""
        where = format_answer(target_intervals(f, CLASS_SYMBOL[cls]) or [], name)  # the paper's answer
        parts.append(f"{name}s: {len(times)} ({listed}{more}); {where}.")
    shown = {"Atrial fibrillation", *ECTOPY_CLASS, *RHYTHM_FAMILY}
    others = [s for s in f.statements if s.confidence >= MIN_CONFIDENCE and s.name not in shown]
    if others:
        parts.append("Findings: " + ", ".join(f"{lower(s.name)} ({s.confidence:.2f})" for s in others) + ".")
    episodes = [e for e in f.episodes if e.kind not in SINUS_KINDS]
    if episodes:
        parts.append("Episodes: " + ", ".join(f"{lower(EPISODE_KINDS.get(e.kind, e.kind))} {e.start_s:.1f}-"
                                               f"{e.end_s:.1f} s" for e in episodes) + ".")
    parts += [f"Note: {n}." for n in f.notes]
    return "\n" + " ".join(parts) + "\n"


def named_statements(f: ECGFindings) -> list[str]:
    """The read as vocabulary names, its rhythm first, then the statements of at least MIN_CONFIDENCE (most
    confident first) and the ectopic beats it found: what a report or a comparison written from the read names."""
    made = [s.name for s in sorted(f.statements, key=lambda s: -s.confidence) if s.confidence >= MIN_CONFIDENCE]
    if not f.n_beats:
        return made
    rhythms = [n for n in made if n in RHYTHM_FAMILY]
    rhythm = "Atrial fibrillation" if has_finding(f, "Atrial fibrillation") else \
        rhythms[0] if rhythms else FAMILY_NAME["sinus"]
    rest = [n for n in made if n not in RHYTHM_FAMILY and n not in ECTOPY_CLASS]
    return [rhythm, *rest, *(n for n in ECTOPY_CLASS if has_finding(f, n))]


def present_findings(f: ECGFindings) -> set[str]:
    """The comparable findings (AF, blocks, ectopy: `anyecg.vocabulary.COMPARABLE`) the read holds."""
    return {n for n in COMPARABLE if has_finding(f, n)}


def rate_change(before: float | None, after: float | None) -> str | None:
    """'faster', 'slower' or 'about the same' (within RATE_SAME); None without both rates."""
    if not before or not after:
        return None
    change = after / before - 1.0
    return "about the same" if abs(change) <= RATE_SAME else "faster" if change > 0 else "slower"


def comparison_text(fs: Sequence[ECGFindings]) -> str:
    """What changed from each ECG to the next (rate, rhythm, new and resolved findings), one sentence per pair;
    empty for fewer than two ECGs."""
    lines = []
    for k in range(1, len(fs)):
        a, b = fs[k - 1], fs[k]
        ra, rb = a.measurements.heart_rate_bpm, b.measurements.heart_rate_bpm
        word = rate_change(ra, rb)
        parts = [f"heart rate {ra:.0f} to {rb:.0f} bpm ({word})"] if word else []
        fa, fb = rhythm_family(a), rhythm_family(b)
        parts.append("rhythm unchanged" if fa == fb else
                     f"rhythm changed from {lower(FAMILY_NAME[fa])} to {lower(FAMILY_NAME[fb])}")
        before, after = present_findings(a), present_findings(b)
        new, gone = sorted(after - before), sorted(before - after)
        parts.append("new: " + (", ".join(lower(n) for n in new) or "none"))
        parts.append("resolved: " + (", ".join(lower(n) for n in gone) or "none"))
        lines.append(f"From ECG {k} to ECG {k + 1}: " + "; ".join(parts) + ".")
    return "\n" + "\n".join(lines) + "\n" if lines else ""


# ---- the read's own sentences (the findings-only answers, and where the read leads a verified answer) --------
INTERVAL_FIELD = {"pr": ("PR interval", "pr_ms"), "qrs": ("QRS duration", "qrs_ms"), "qt": ("QT interval", "qt_ms")}


def rate_sentence(f: ECGFindings) -> str:
    hr = f.measurements.heart_rate_bpm
    return f"The heart rate is {hr:.0f} bpm." if hr else "Unknown heart rate."


def interval_sentence(f: ECGFindings, label: str, field: str) -> str:
    value = getattr(f.measurements, field)
    return f"The {label} is {value:.0f} ms." if value is not None else f"The {label} cannot be measured."


def axis_sentence(f: ECGFindings) -> str:
    a = f.measurements.qrs_axis_deg
    return "The axis cannot be measured." if a is None else f"{axis_word(a)} (QRS axis {a:.0f}°)."


def regularity_sentence(f: ECGFindings) -> str:
    return f"The rhythm is {'irregular' if is_irregular(f) else 'regular'}."


def rhythm_sentence(f: ECGFindings) -> str:
    return FAMILY_NAME[rhythm_family(f)] + "."


def count_sentence(f: ECGFindings, name: str) -> str:
    n = ectopic_count(f, name)
    if n is None:
        return "Cannot count the beats."
    return f"{n or 'No'} {lower(name)}{'' if n == 1 else 's'}."


def _nth(fs: Sequence[ECGFindings]) -> str:
    return "second" if len(fs) == 2 else "last"


def rhythm_change_sentence(fs: Sequence[ECGFindings]) -> str:
    a, b = rhythm_family(fs[0]), rhythm_family(fs[-1])
    return "No, the rhythm is unchanged." if a == b else \
        f"Yes: {lower(FAMILY_NAME[a])} in the first ECG, {lower(FAMILY_NAME[b])} in the {_nth(fs)}."


def rate_change_sentence(fs: Sequence[ECGFindings]) -> str:
    ra, rb = fs[0].measurements.heart_rate_bpm, fs[-1].measurements.heart_rate_bpm
    word = rate_change(ra, rb)
    if word is None:
        return "Cannot compare the rates."
    return f"{word.capitalize()}: {ra:.0f} bpm in the first ECG, {rb:.0f} bpm in the {_nth(fs)}."


def change_sentence(fs: Sequence[ECGFindings], new: bool) -> str:
    """What is new in the last ECG (`new`) or no longer present in it."""
    first, last = present_findings(fs[0]), present_findings(fs[-1])
    names = sorted(last - first if new else first - last)
    if not names:
        return f"No new finding in the {_nth(fs)} ECG." if new else f"No finding resolved in the {_nth(fs)} ECG."
    return f"{', '.join(names)} {'is new in' if new else 'is no longer present in'} the {_nth(fs)} ECG."


def listing_sentence(fs: Sequence[ECGFindings], upto: int) -> str:
    """Each ECG's read statements up to ECG `upto` (1-based) in the comparisons' format: "ECG 1: A; B. ECG 2: C."."""
    return " ".join(f"ECG {k + 1}: {'; '.join(named_statements(f)) or 'no finding'}." for k, f in
                    enumerate(fs[:upto]))
