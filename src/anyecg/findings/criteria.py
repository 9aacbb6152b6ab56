"""Statement criteria: the standard rules a cart applies to its measurements, each with a graded confidence.

Each rule reads `Measurements`, beat classes and episodes and returns a `Statement` (source "criteria") whose
confidence is a logistic function of the margin to the rule's threshold (0.5 at the threshold; the width says how
sharp the edge is), or nothing when the values it needs are missing. Thresholds are the textbook ones
(AHA/ACCF/HRS 2009 recommendations for the standardisation and interpretation of the ECG, parts III-VI), never
fitted to test data. Lead-dependent rules need known lead positions; voltage rules need real amplitudes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from anyecg.findings.rhythm import AF_IRREGULAR, irregularity
from anyecg.findings.types import ECGFindings, Evidence, Measurements, Statement

# Lead groups (contiguous leads) for ST findings
LEAD_GROUPS: dict[str, tuple[str, ...]] = {
    "inferior": ("II", "III", "aVF"),
    "anterior": ("V1", "V2", "V3", "V4"),
    "lateral": ("I", "aVL", "V5", "V6"),
}
LIMB_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF")
PRECORDIAL_LEADS = ("V1", "V2", "V3", "V4", "V5", "V6")

BRADY_BPM, TACHY_BPM = 60.0, 100.0
AVB1_PR_MS = 200.0
BBB_QRS_MS, IRBBB_QRS_MS = 120.0, 110.0
LAD_DEG, RAD_DEG, LAFB_DEG = -30.0, 90.0, -45.0
SOKOLOW_MV, CORNELL_MV = 3.5, 2.8
STE_MV, STE_V2V3_MV, STD_MV = 0.1, 0.2, 0.05
LONG_QTC_MS = 460.0
LOW_LIMB_MV, LOW_PRECORDIAL_MV = 0.5, 1.0
AF_RR_CV = 0.1  # RR coefficient of variation above which an rhythm without P waves reads as AF
FLUTTER_SCORE = 0.5  # flutter-wave score (`flutter.py`) read as atrial flutter; set on the training records


def sigmoid_margin(value: float, threshold: float, width: float) -> float:
    """0.5 at the threshold, → 1 above it (width > 0) or below it (width < 0)."""
    z = (value - threshold) / width
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


@dataclass(frozen=True)
class Context:
    """What a rule may read: the findings, and whether lead positions and amplitudes can be trusted."""

    findings: ECGFindings
    amplitudes_real: bool = True

    @property
    def m(self) -> Measurements:
        return self.findings.measurements

    @property
    def leads_known(self) -> bool:
        return self.findings.lead_positions_known

    def coverage(self, kind: str) -> float:
        """Share of the ECG covered by episodes of `kind`."""
        if self.findings.duration_s <= 0:
            return 0.0
        return min(1.0, sum(e.duration_s for e in self.findings.episodes_of(kind)) / self.findings.duration_s)

    def beats_of(self, cls: str) -> tuple[int, ...]:
        return tuple(i for i, c in enumerate(self.findings.beat_classes) if c == cls)


def _st(name: str, conf: float, reason: str, leads: Sequence[str] = (), beats: Sequence[int] = ()) -> Statement:
    return Statement(name, float(conf), "criteria", Evidence(leads=tuple(leads), beats=tuple(beats), reason=reason))


def _af_evidence(c: Context) -> float | None:
    """The mean of the rhythm reader's AF share of the ECG and the RR irregularity (CV) without P waves (either
    alone when the other is missing; the mean ranked the training records best: AUC 0.953 against 0.794 for the
    episodes alone and 0.940 for the irregularity alone). What sinus rhythm is weighed against."""
    m = c.m
    irregular = sigmoid_margin(m.rr_cv, AF_RR_CV, 0.02) * _no_p(c) if m.rr_cv is not None else None
    share = c.coverage("AF") if c.findings.episodes else None
    parts = [v for v in (share, irregular) if v is not None]
    return sum(parts) / len(parts) if parts else None


def _no_p(c: Context) -> float:
    return 0.9 if c.m.pr_ms is None else 0.3


def _af_share(c: Context, irr: float | None) -> float | None:
    """How much the ECG reads as AF: `_af_evidence`, or, when higher, the irregularity `irr` of the intervals between
    sinus-conducted beats (`rhythm.irregularity`: ectopic beats left out) without P waves. The second term reads
    AF in a short ECG whose episodes miss it (too few intervals left, or f waves scored as P waves): on MIT-BIH DS1
    10 s windows read alone it took AF sensitivity from 0.49 to 0.68 at specificity 0.984 → 0.981; on the 12-lead
    training records it took the AUC from 0.970 to 0.978. Only without a measured PR: sinus arrhythmia keeps its P
    waves."""
    mean = _af_evidence(c)
    if irr is None or c.m.pr_ms is not None:
        return mean
    sinus = sigmoid_margin(irr, AF_IRREGULAR, 0.02) * _no_p(c)
    return sinus if mean is None else max(mean, sinus)


def _sinus_irregularity(c: Context) -> float | None:
    """Median of `rhythm.irregularity` over the ECG (ectopic beats left out); None when too few intervals."""
    f = c.findings
    if f.n_beats < 3:
        return None
    irr = irregularity(f.beat_times_s, f.beat_classes)
    return float(np.nanmedian(irr)) if np.isfinite(irr).any() else None


def atrial_fibrillation(c: Context) -> Statement | None:
    irr = _sinus_irregularity(c)
    share = _af_share(c, irr)
    if share is None:
        return None
    how = "; ".join(filter(None, (
        f"AF episodes cover {100 * c.coverage('AF'):.0f} % of the ECG" if c.findings.episodes else "",
        f"RR CV {c.m.rr_cv:.2f}, {'no P waves' if c.m.pr_ms is None else 'P waves found'}" if c.m.rr_cv is not None
        else "",
        f"median |ΔRR| between sinus-conducted beats {irr:.2f} of the RR" if irr is not None else "")))
    spans = c.findings.episodes_of("AF")
    ev = Evidence(start_s=spans[0].start_s if spans else None, end_s=spans[-1].end_s if spans else None, reason=how)
    return Statement("Atrial fibrillation", share, "criteria", ev)


def _flutter_waves(c: Context) -> float | None:
    """Confidence from the flutter-wave score (`flutter.py`): 0.5 at `FLUTTER_SCORE`."""
    score = c.m.flutter_wave_score
    return None if score is None else sigmoid_margin(score, FLUTTER_SCORE, 0.03)


def atrial_flutter(c: Context) -> Statement | None:
    """Flutter episodes of the rhythm reader (long records) or flutter waves on a strip, whichever is stronger."""
    waves = _flutter_waves(c)
    if not c.findings.episodes and waves is None:
        return None
    share = c.coverage("AFL") if c.findings.episodes else 0.0
    if waves is not None and waves > share:
        return _st("Atrial flutter", waves, f"regular atrial waves at {c.m.flutter_rate_bpm:.0f}/min between the QRS "
                   f"complexes (score {c.m.flutter_wave_score:.2f})")
    return _st("Atrial flutter", share, f"flutter episodes cover {100 * share:.0f} % of the ECG")


def pacing_rhythm(c: Context) -> Statement | None:
    """Paced beats (a pacemaker spike before a wide QRS: `anyecg.findings.pacing`) over the ECG."""
    if not c.findings.episodes and "P" not in c.findings.beat_classes:
        return None
    share = max(c.coverage("paced"), c.findings.beat_classes.count("P") / max(len(c.findings.beat_classes), 1))
    return _st("Pacing rhythm", share, f"paced beats (spike before a wide QRS) over {100 * share:.0f} % of the ECG",
               beats=c.beats_of("P")[:20])


def _sinus(c: Context) -> float | None:
    """Confidence that the rhythm is sinus: P waves before the QRS (a PR was measured) and no AF/AFL."""
    af = _af_evidence(c)
    if c.m.pr_ms is None and af is None:
        return None
    p = 0.9 if c.m.pr_ms is not None else 0.15
    other = (c.coverage("AFL") + c.coverage("paced")) if c.findings.episodes else 0.0
    other = max(other, _flutter_waves(c) or 0.0)
    return p * (1.0 - (af or 0.0)) * max(0.0, 1.0 - other)


def sinus_rhythm(c: Context) -> Statement | None:
    s = _sinus(c)
    if s is None:
        return None
    return _st("Sinus rhythm", s, "P waves before each QRS" if c.m.pr_ms is not None else "no PR measured")


def sinus_bradycardia(c: Context) -> Statement | None:
    s, hr = _sinus(c), c.m.heart_rate_bpm
    if s is None or hr is None:
        return None
    return _st("Sinus bradycardia", s * sigmoid_margin(hr, BRADY_BPM, -2.0), f"HR {hr:.0f} bpm")


def sinus_tachycardia(c: Context) -> Statement | None:
    s, hr = _sinus(c), c.m.heart_rate_bpm
    if s is None or hr is None:
        return None
    return _st("Sinus tachycardia", s * sigmoid_margin(hr, TACHY_BPM, 2.0), f"HR {hr:.0f} bpm")


def first_degree_av_block(c: Context) -> Statement | None:
    pr = c.m.pr_ms
    if pr is None:
        return None
    return _st("First degree AV block", sigmoid_margin(pr, AVB1_PR_MS, 8.0), f"PR {pr:.0f} ms")


def _amp(d: dict[str, float], lead: str) -> float | None:
    v = d.get(lead)
    return None if v is None or not math.isfinite(v) else abs(v)


def _dominant_r(c: Context, lead: str) -> float | None:
    """Confidence that the QRS in `lead` is dominantly positive (R ≥ S), from the R and S amplitudes."""
    r, s = _amp(c.m.r_amp_mv, lead), _amp(c.m.s_amp_mv, lead)
    if r is None or s is None:
        return None
    return sigmoid_margin(r - s, 0.0, 0.1)


def _bbb(c: Context, right: bool) -> Statement | None:
    qrs = c.m.qrs_ms
    if qrs is None or not c.leads_known:
        return None
    v1 = _dominant_r(c, "V1")
    lateral = [x for x in (_dominant_r(c, "V6"), _dominant_r(c, "I")) if x is not None]
    if v1 is None:
        return None
    wide = sigmoid_margin(qrs, BBB_QRS_MS, 5.0)
    if c.findings.beat_classes:  # a paced QRS is wide by pacing, not by a block
        wide *= 1.0 - c.findings.beat_classes.count("P") / len(c.findings.beat_classes)
    if right:
        shape = v1
        return _st("Right bundle branch block", wide * shape, f"QRS {qrs:.0f} ms, terminal R dominant in V1 (rsR')",
                   leads=("V1",))
    shape = (1 - v1) * (min(lateral) if lateral else 0.7)
    return _st("Left bundle branch block", wide * shape, f"QRS {qrs:.0f} ms, QS/rS in V1, R dominant in I/V6",
               leads=("V1", "I", "V6"))


def right_bundle_branch_block(c: Context) -> Statement | None:
    return _bbb(c, right=True)


def left_bundle_branch_block(c: Context) -> Statement | None:
    return _bbb(c, right=False)


def incomplete_rbbb(c: Context) -> Statement | None:
    qrs = c.m.qrs_ms
    if qrs is None or not c.leads_known:
        return None
    v1 = _dominant_r(c, "V1")
    if v1 is None:
        return None
    band = sigmoid_margin(qrs, IRBBB_QRS_MS, 2.5) * sigmoid_margin(qrs, BBB_QRS_MS, -2.5)
    return _st("Incomplete right bundle branch block", band * v1, f"QRS {qrs:.0f} ms, R dominant in V1",
               leads=("V1",))


def left_axis_deviation(c: Context) -> Statement | None:
    axis = c.m.qrs_axis_deg
    if axis is None or not c.leads_known:
        return None
    conf = sigmoid_margin(axis, LAD_DEG, -4.0) * sigmoid_margin(axis, -90.0, 4.0)
    return _st("Left axis deviation", conf, f"QRS axis {axis:.0f}°", leads=("I", "II", "aVF"))


def right_axis_deviation(c: Context) -> Statement | None:
    axis = c.m.qrs_axis_deg
    if axis is None or not c.leads_known:
        return None
    conf = sigmoid_margin(axis, RAD_DEG, 4.0) * sigmoid_margin(axis, 180.0, -4.0)
    return _st("Right axis deviation", conf, f"QRS axis {axis:.0f}°", leads=("I", "aVF"))


def left_anterior_fascicular_block(c: Context) -> Statement | None:
    axis, qrs = c.m.qrs_axis_deg, c.m.qrs_ms
    if axis is None or qrs is None or not c.leads_known:
        return None
    conf = sigmoid_margin(axis, LAFB_DEG, -4.0) * sigmoid_margin(axis, -90.0, 4.0) * sigmoid_margin(qrs, BBB_QRS_MS,
                                                                                                     -5.0)
    return _st("Left anterior fascicular block", conf, f"QRS axis {axis:.0f}°, QRS {qrs:.0f} ms",
               leads=("I", "aVL", "II", "III", "aVF"))


def left_ventricular_hypertrophy(c: Context) -> Statement | None:
    if not (c.amplitudes_real and c.leads_known):
        return None
    r, s = c.m.r_amp_mv, c.m.s_amp_mv
    scores = []
    sv1, rv5, rv6 = _amp(s, "V1"), _amp(r, "V5"), _amp(r, "V6")
    if sv1 is not None and (rv5 is not None or rv6 is not None):
        sokolow = sv1 + max(x for x in (rv5, rv6) if x is not None)
        scores.append((sigmoid_margin(sokolow, SOKOLOW_MV, 0.25), f"Sokolow-Lyon {sokolow:.2f} mV",
                       ("V1", "V5", "V6")))
    ravl, sv3 = _amp(r, "aVL"), _amp(s, "V3")
    if ravl is not None and sv3 is not None:
        cornell = ravl + sv3
        scores.append((sigmoid_margin(cornell, CORNELL_MV, 0.2), f"Cornell {cornell:.2f} mV", ("aVL", "V3")))
    if not scores:
        return None
    conf, _, _ = max(scores)
    return _st("Left ventricular hypertrophy", conf, ", ".join(t for _, t, _ in scores),
               leads=tuple(dict.fromkeys(lead for _, _, ls in scores for lead in ls)))


def _st_groups(c: Context, elevation: bool) -> Statement | None:
    st = c.m.st_j60_mv
    if not st or not c.leads_known:
        return None
    best, hits = 0.0, []
    for group, leads in LEAD_GROUPS.items():
        per_lead = []
        for lead in leads:
            v = st.get(lead)
            if v is None or not math.isfinite(v):
                continue
            if elevation:
                thr = STE_V2V3_MV if lead in ("V2", "V3") else STE_MV
                per_lead.append((sigmoid_margin(v, thr, 0.025), lead, v))
            else:
                per_lead.append((sigmoid_margin(v, -STD_MV, -0.02), lead, v))
        # two contiguous leads: the group's second-strongest lead decides
        per_lead.sort(reverse=True)
        if len(per_lead) >= 2:
            conf = per_lead[1][0]
            if conf > best:
                best = conf
            if conf >= 0.5:
                hits.append((group, [(lead, v) for p, lead, v in per_lead if p >= 0.5]))
    if elevation is False and c.m.qrs_ms is not None:
        best *= sigmoid_margin(c.m.qrs_ms, BBB_QRS_MS, -5.0) * 0.6 + 0.4  # secondary to a wide QRS: weaker
    name = "ST elevation" if elevation else "ST depression"
    reason = "; ".join(f"{g}: " + ", ".join(f"{lead} {v:+.2f} mV" for lead, v in ls) for g, ls in hits)
    return _st(name, best, reason or "no lead group reaches the threshold",
               leads=tuple(lead for _, ls in hits for lead, _ in ls))


def st_elevation(c: Context) -> Statement | None:
    return _st_groups(c, elevation=True)


def st_depression(c: Context) -> Statement | None:
    return _st_groups(c, elevation=False)


def _ectopic(c: Context, cls: str, name: str) -> Statement | None:
    if not c.findings.beat_classes:
        return None
    beats = c.beats_of(cls)
    conf = {0: 0.05, 1: 0.75}.get(len(beats), 0.9)
    return _st(name, conf, f"{len(beats)} {cls} beat(s) of {len(c.findings.beat_classes)}", beats=beats[:20])


def premature_ventricular_contraction(c: Context) -> Statement | None:
    return _ectopic(c, "V", "Premature ventricular contraction")


def premature_atrial_contraction(c: Context) -> Statement | None:
    return _ectopic(c, "S", "Premature atrial contraction")


def low_qrs_voltages(c: Context) -> Statement | None:
    r, s = c.m.r_amp_mv, c.m.s_amp_mv
    if not c.amplitudes_real:
        return None
    limb = [(_amp(r, lead) or 0.0) + (_amp(s, lead) or 0.0) for lead in LIMB_LEADS if lead in r or lead in s]
    if limb:
        biggest = max(limb)
        return _st("Low QRS voltages", sigmoid_margin(biggest, LOW_LIMB_MV, -0.05),
                   f"largest limb-lead QRS {biggest:.2f} mV", leads=LIMB_LEADS)
    if c.m.low_voltage_limb is None and c.m.low_voltage_precordial is None:
        return None
    low = bool(c.m.low_voltage_limb) or bool(c.m.low_voltage_precordial)
    return _st("Low QRS voltages", 0.9 if low else 0.05, "low-voltage flag" if low else "normal voltage")


def prolonged_qt(c: Context) -> Statement | None:
    qtc = c.m.qtc_bazett_ms
    if qtc is None:
        return None
    conf = sigmoid_margin(qtc, LONG_QTC_MS, 8.0)
    if c.m.qrs_ms is not None:
        conf *= sigmoid_margin(c.m.qrs_ms, BBB_QRS_MS, -5.0) * 0.5 + 0.5  # a wide QRS lengthens the QT
    return _st("Prolonged QT interval", conf, f"QTc (Bazett) {qtc:.0f} ms")


RULES: tuple[Callable[[Context], Statement | None], ...] = (
    sinus_rhythm, sinus_bradycardia, sinus_tachycardia, atrial_fibrillation, atrial_flutter, pacing_rhythm,
    first_degree_av_block,
    right_bundle_branch_block, left_bundle_branch_block, incomplete_rbbb, left_anterior_fascicular_block,
    left_axis_deviation, right_axis_deviation, left_ventricular_hypertrophy, st_elevation, st_depression,
    premature_ventricular_contraction, premature_atrial_contraction, low_qrs_voltages, prolonged_qt,
)

# Abnormal statements a normal ECG has none of (criteria side of "Normal ECG")
ABNORMAL = ("Sinus bradycardia", "Sinus tachycardia", "Atrial fibrillation", "Atrial flutter", "Pacing rhythm",
            "First degree AV block",
            "Right bundle branch block", "Left bundle branch block", "Left anterior fascicular block",
            "Left axis deviation", "Right axis deviation", "Left ventricular hypertrophy", "ST elevation",
            "ST depression", "Premature ventricular contraction", "Premature atrial contraction", "Low QRS voltages",
            "Prolonged QT interval")


def apply_criteria(findings: ECGFindings, *, amplitudes_real: bool = True) -> dict[str, Statement]:
    """Every rule that has what it needs → its statement (any confidence), plus "Normal ECG" (sinus rhythm and none
    of the abnormal criteria statements)."""
    ctx = Context(findings, amplitudes_real)
    out = {s.name: s for s in (rule(ctx) for rule in RULES) if s is not None}
    if "Sinus rhythm" in out and findings.measurements.qrs_ms is not None:
        normal = out["Sinus rhythm"].confidence
        for name in ABNORMAL:
            if name in out:
                normal *= 1.0 - out[name].confidence
        out["Normal ECG"] = _st("Normal ECG", normal, "sinus rhythm; no abnormal criterion met")
    return out
