"""A cart's global measurements from the beats and the delineated median beat.

Rate and RR statistics from all beats; P duration, PR, QRS and QT from the median beat's fiducials (IEC 60601-2-51
global intervals); QTc by Bazett (QT/√RR) and Fridericia (QT/∛RR) with the mean RR; frontal axes from the net
areas of the P, QRS and T waves in leads I and aVF (derived from two other limb leads when one is missing);
R and S amplitudes and the ST level at J+60 ms per lead against the PR segment; low voltage when every limb lead's
QRS is under 0.5 mV peak to peak (every precordial lead under 1.0 mV). A value the read cannot make is None and a
note says why.
"""

from __future__ import annotations

import math

import numpy as np

from anyecg.findings.delineate import Delineation, Template
from anyecg.findings.types import Measurements

LIMB_LEADS = ("I", "II", "III", "aVR", "aVL", "aVF")
PRECORDIAL_LEADS = ("V1", "V2", "V3", "V4", "V5", "V6")
LOW_VOLTAGE_MV = {"limb": 0.5, "precordial": 1.0}
ST_AFTER_J_S = 0.06
MIN_R_MV = 0.05  # a smaller positive deflection is no R wave (the complex is QS)


def rr_stats(beats: np.ndarray, fs: float) -> dict[str, float | None]:
    """Heart rate (from the mean RR), mean and SD of RR (ms), CV, and pNN50 (share of successive RR differences
    over 50 ms)."""
    rr = np.diff(np.asarray(beats, dtype=np.float64)) / fs * 1000.0
    out: dict[str, float | None] = dict.fromkeys(("heart_rate_bpm", "rr_mean_ms", "rr_sd_ms", "rr_cv", "pnn50"))
    if len(rr) == 0:
        return out
    mean = float(rr.mean())
    out["rr_mean_ms"], out["heart_rate_bpm"] = mean, 60000.0 / mean
    if len(rr) >= 2:
        sd = float(rr.std(ddof=1))
        out["rr_sd_ms"], out["rr_cv"] = sd, sd / mean
        out["pnn50"] = float(np.mean(np.abs(np.diff(rr)) > 50.0))
    return out


def _s_depth(qrs: np.ndarray, r: float) -> float:
    """S depth (mV, ≥ 0) of one lead's QRS: the deepest point after R; with no R (a QS complex) the deepest point of
    the QRS, and so too when a negative deflection before the R is deeper than the R (QS or Qr: LBBB's V1, whose
    discordant ST elevation can reach into a late QRS offset and read as a terminal R; before this rule, MIT-BIH 111
    and 214 read as RBBB)."""
    k = int(qrs.argmax())
    if r < MIN_R_MV:
        return float(max(0.0, -qrs.min()))
    before, after = float(-qrs[: k + 1].min()), float(-qrs[k:].min())
    return max(0.0, before if before > r else after)


def _frontal(template: Template, a: int | None, b: int | None) -> dict[str, float] | None:
    """Net areas (mV·s) of leads I and aVF over template samples [a, b], deriving them from other limb leads."""
    if a is None or b is None or b <= a:
        return None
    area = {lead: float(template.signal[i, a: b + 1].sum() / template.fs) for i, lead in enumerate(template.leads)}
    i_ = area.get("I")
    f_ = area.get("aVF")
    ii, iii = area.get("II"), area.get("III")
    if i_ is None and ii is not None and iii is not None:
        i_ = ii - iii
    if f_ is None and ii is not None and i_ is not None:
        f_ = ii - i_ / 2
    if f_ is None and ii is not None and iii is not None:
        f_ = (ii + iii) / 2
    if i_ is None or f_ is None:
        return None
    return {"I": i_, "aVF": f_}


def _axis(template: Template, a: int | None, b: int | None) -> float | None:
    net = _frontal(template, a, b)
    if net is None or math.hypot(net["I"], net["aVF"]) == 0:
        return None
    return float(math.degrees(math.atan2(net["aVF"], net["I"])))


def measure(beats: np.ndarray, fs: float, delineation: Delineation, *,
            lead_positions_known: bool = True) -> tuple[Measurements, list[str]]:
    """Measurements and the notes on what could not be measured."""
    notes: list[str] = []
    stats = rr_stats(beats, fs)
    if stats["heart_rate_bpm"] is None:
        notes.append("fewer than 2 beats: no heart rate")
    tpl, fid = delineation.template, delineation.fiducials
    if tpl is None:
        return Measurements(**stats), notes
    d = delineation.interval_ms
    qt = d("qrs_on", "t_off")
    rr_s = (stats["rr_mean_ms"] or 0.0) / 1000.0
    qtc_b = qt / math.sqrt(rr_s) if qt is not None and rr_s > 0 else None
    qtc_f = qt / rr_s ** (1 / 3) if qt is not None and rr_s > 0 else None
    values: dict = {"p_ms": d("p_on", "p_off"), "pr_ms": d("p_on", "qrs_on"), "qrs_ms": d("qrs_on", "qrs_off"),
                    "qt_ms": qt, "qtc_bazett_ms": qtc_b, "qtc_fridericia_ms": qtc_f}
    if qt is not None and rr_s == 0:
        notes.append("no RR interval: QTc not computed")
    if not lead_positions_known:
        notes.append("lead positions unknown: no axes, per-lead amplitudes, ST levels or low-voltage flags")
        return Measurements(**stats, **values), notes

    on, off = fid["qrs_on"], fid["qrs_off"]
    t_start = off if fid["t_off"] is not None else None
    values["p_axis_deg"] = _axis(tpl, fid["p_on"], fid["p_off"])
    values["qrs_axis_deg"] = _axis(tpl, on, off)
    values["t_axis_deg"] = _axis(tpl, t_start, fid["t_off"])
    if values["qrs_axis_deg"] is None:
        notes.append("no frontal axis: needs lead I and aVF or two of I, II, III")
    qrs = tpl.signal[:, on: off + 1]
    r_amp = np.maximum(qrs.max(axis=1), 0.0)
    values["r_amp_mv"] = {lead: float(r_amp[i]) for i, lead in enumerate(tpl.leads)}
    values["s_amp_mv"] = {lead: _s_depth(qrs[i], float(r_amp[i])) for i, lead in enumerate(tpl.leads)}
    j60 = off + round(ST_AFTER_J_S * fs)
    if j60 < tpl.signal.shape[1] and (fid["t_off"] is None or j60 < fid["t_off"]):
        values["st_j60_mv"] = {lead: float(tpl.signal[i, j60]) for i, lead in enumerate(tpl.leads)}
    else:
        notes.append("J+60 ms lies past the T wave: no ST levels")
    ptp = {lead: float(np.ptp(qrs[i])) for i, lead in enumerate(tpl.leads)}
    for group, names in (("limb", LIMB_LEADS), ("precordial", PRECORDIAL_LEADS)):
        if all(n in ptp for n in names):
            values[f"low_voltage_{group}"] = all(ptp[n] < LOW_VOLTAGE_MV[group] for n in names)
    return Measurements(**stats, **values), notes
