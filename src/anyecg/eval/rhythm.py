"""Checks of the rhythm and beat findings on MIT-BIH Arrhythmia (`anyecg eval findings --part rhythm|beats`).

- **rhythm**: all 48 records (and DS1 / DS2 apart): AF per 10 s window (a window is AF when AF covers half of
  it, by the '(AFIB' annotations and by our episodes) — sensitivity, specificity; the same windows read alone
  as 10 s ECGs and read as windows of their recording (rhythm in context; AF when `has_finding` says so);
  per-record AF burden error;
  pauses (annotated RR ≥ 2 s) and VT ('(VT' episodes) found / false; false burden: for every record, each
  episode kind and beat class that covers more than 5 % of a record whose annotations have none of it.
- **beats**: DS2 (never trained on) detected beats against the annotations: sensitivity / PPV per class, as read
  (native rate, both leads), resampled to 128, 200 and 250 Hz, and with the second lead removed, all read block by
  block as `scan` reads; and the whole record read at once by `read_findings` as `measure` and chat read it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from anyecg.data.sources.mitdb import DS1, DS2
from anyecg.findings.beat_classes import annotated_classes, missed_classes
from anyecg.findings.read import RHYTHM_CONTEXT_S, read_findings
from anyecg.findings.stream import beat_track, rhythm_findings
from anyecg.findings.summary import has_finding
from anyecg.findings.types import ECGFindings
from anyecg.io import read_record
from anyecg.io.record import BeatAnnotations, ECGRecord
from anyecg.signal.intervals import BEAT_SYMBOLS

WINDOW_S = 10.0
FALSE_BURDEN = 0.05
# episode kind → the MIT-BIH rhythm labels that count as having it
KIND_LABELS = {"AF": ("(AFIB",), "AFL": ("(AFL",), "VT": ("(VT", "(VFL"), "SVT": ("(SVTA",), "bigeminy": ("(B",),
               "trigeminy": ("(T",), "paced": ("(P",), "sinus": ("(N", "(SBR"), "sinus_brady": ("(N", "(SBR"),
               "sinus_tachy": ("(N",)}
SCORED_CLASSES = ("N", "V", "S", "L", "R", "F")
MISSED = "missed"  # the confusion's column for annotated beats no detection matched
PACED_SYMBOLS = ("/", "f")  # paced and fusion-of-paced beats (our class P)


def _records(mitdb: Path) -> list[str]:
    return [r.strip() for r in (mitdb / "RECORDS").read_text().split() if r.strip()]


def block_read(rec: ECGRecord) -> ECGFindings:
    """Beats and rhythm as `scan` reads a record: block by block (`beat_track`)."""
    return rhythm_findings(beat_track(rec))


def read_mitdb(path: Path) -> tuple[ECGRecord, ECGFindings]:
    rec = read_record(path)
    return rec, block_read(rec)


def _coverage(spans: Sequence[tuple[float, float]], a: float, b: float) -> float:
    return sum(max(0.0, min(e, b) - max(s, a)) for s, e in spans)


def _truth_spans(rec: ECGRecord, labels: Sequence[str]) -> list[tuple[float, float]]:
    return [(e.start_s, e.end_s) for e in rec.events if e.label.upper() in labels]


def _annotated_beats(rec: ECGRecord) -> tuple[np.ndarray, list[str]]:
    ann = rec.beats
    keep = [i for i, s in enumerate(ann.symbol) if s in BEAT_SYMBOLS]
    return np.asarray(ann.sample)[keep] / rec.fs, [ann.symbol[i] for i in keep]


def _hits(truth: Sequence[tuple[float, float]], pred: Sequence[tuple[float, float]]) -> tuple[int, int, int, int]:
    """(truth found, truth, predicted matching a truth, predicted): overlap counts as found."""
    def overlaps(x, ys):
        return any(min(x[1], y[1]) > max(x[0], y[0]) or x == y for y in ys)
    return (sum(overlaps(t, pred) for t in truth), len(truth), sum(overlaps(p, truth) for p in pred), len(pred))


def rhythm_rows(rec: ECGRecord, f: ECGFindings) -> dict:
    """Per-record figures: AF windows, burden, pauses, VT, false burden."""
    dur = rec.duration_s
    af_true = _truth_spans(rec, KIND_LABELS["AF"])
    af_pred = [(e.start_s, e.end_s) for e in f.episodes_of("AF")]
    n_win = int(dur // WINDOW_S)
    win_true = np.array([_coverage(af_true, i * WINDOW_S, (i + 1) * WINDOW_S) >= WINDOW_S / 2 for i in range(n_win)])
    win_pred = np.array([_coverage(af_pred, i * WINDOW_S, (i + 1) * WINDOW_S) >= WINDOW_S / 2 for i in range(n_win)])
    t_ann, _ = _annotated_beats(rec)
    rr = np.diff(t_ann)
    pause_true = [(float(t_ann[i]), float(t_ann[i + 1])) for i in np.flatnonzero(rr >= 2.0)]
    pause_pred = [(e.start_s, e.end_s) for e in f.episodes_of("pause")]
    vt_true = _truth_spans(rec, KIND_LABELS["VT"])
    vt_pred = [(e.start_s, e.end_s) for e in f.episodes_of("VT")]
    false: list[tuple[str, float]] = []
    for kind, labels in KIND_LABELS.items():
        if not _truth_spans(rec, labels):
            cover = _coverage([(e.start_s, e.end_s) for e in f.episodes_of(kind)], 0.0, dur) / dur
            false.append((kind, cover))
    if not pause_true:
        false.append(("pause", _coverage(pause_pred, 0.0, dur) / dur))
    truth_cls = annotated_classes(f.beat_times_s * rec.fs, rec.beats.sample, rec.beats.symbol, rec.fs)
    for c in SCORED_CLASSES:
        if c != "N" and c not in truth_cls and f.n_beats:
            false.append((f"{c} beats", f.beat_classes.count(c) / f.n_beats))
    paced_true = sum(s in PACED_SYMBOLS for s in rec.beats.symbol)
    if not paced_true and f.n_beats:
        false.append(("P beats", f.beat_classes.count("P") / f.n_beats))
    beats_true = sum(s in BEAT_SYMBOLS for s in rec.beats.symbol)
    paced = {"annotated": paced_true / max(beats_true, 1), "found": f.beat_classes.count("P") / max(f.n_beats, 1),
             "episodes_true": _coverage(_truth_spans(rec, KIND_LABELS["paced"]), 0, dur) / dur,
             "episodes_found": _coverage([(e.start_s, e.end_s) for e in f.episodes_of("paced")], 0, dur) / dur,
             "L": f.beat_classes.count("L") / max(f.n_beats, 1), "V": f.beat_classes.count("V") / max(f.n_beats, 1),
             "sinus": _coverage([(e.start_s, e.end_s) for e in f.episodes if e.kind.startswith("sinus")], 0, dur) / dur,
             "statement": (s.confidence if (s := f.statement("Pacing rhythm")) else 0.0)}
    alone = np.array([has_finding(read_findings(rec.cut(i * WINDOW_S, (i + 1) * WINDOW_S)), "Atrial fibrillation")
                      for i in range(n_win)], dtype=bool)  # each window as a 10 s ECG file would be
    in_context = np.array([has_finding(read_findings(rec, start_s=i * WINDOW_S, end_s=(i + 1) * WINDOW_S),
                                       "Atrial fibrillation") for i in range(n_win)], dtype=bool)
    return {"win_true": win_true, "win_pred": win_pred, "win_alone": alone, "win_context": in_context,
            "burden_true": 100 * _coverage(af_true, 0, dur) / dur, "burden_pred": 100 * _coverage(af_pred, 0, dur) / dur,
            "pause": _hits(pause_true, pause_pred), "vt": _hits(vt_true, vt_pred), "false": false,
            "paced": paced}


def _sens_spec(rows: dict[str, dict], names: Sequence[str], pred: str = "win_pred") -> tuple[float, float, int, int]:
    t = np.concatenate([rows[r]["win_true"] for r in names])
    p = np.concatenate([rows[r][pred] for r in names])
    return (float((p & t).sum() / max(t.sum(), 1)), float((~p & ~t).sum() / max((~t).sum(), 1)),
            int(t.sum()), int((~t).sum()))


def rhythm_report(mitdb: Path, records: Sequence[str] | None = None) -> tuple[dict, str]:
    started = time.perf_counter()
    names = list(records or _records(mitdb))
    rows = {r: rhythm_rows(*read_mitdb(mitdb / r)) for r in names}
    lines = ["## AF per 10 s window (MIT-BIH Arrhythmia, '(AFIB' annotations)", "",
             "The whole record read once (its AF episodes cover half the window); each window read alone as a "
             "10 s ECG; and each window read as a window of its recording (`read_findings(record, start_s, "
             f"end_s)`: rhythm episodes over {RHYTHM_CONTEXT_S:g} s more on each side, what `anyecg measure/chat "
             "--start --end` and a question about the window see). A window read is AF when its AF statement or "
             "episodes over 30 % of it say so.", "",
             "| records | AF windows | other windows | whole record: sensitivity | specificity | alone: sensitivity "
             "| specificity | in its recording: sensitivity | specificity |", "|---|---|---|---|---|---|---|---|---|"]
    result: dict = {"af_windows": {}, "af_windows_alone": {}, "af_windows_in_context": {}}
    for label, group in (("all", names), ("DS1 (thresholds tuned here)", [r for r in names if r in DS1]),
                         ("DS2", [r for r in names if r in DS2])):
        if group:
            se, sp, npos, nneg = _sens_spec(rows, group)
            se1, sp1, _, _ = _sens_spec(rows, group, "win_alone")
            se2, sp2, _, _ = _sens_spec(rows, group, "win_context")
            key = label.split()[0]
            result["af_windows"][key] = {"sensitivity": se, "specificity": sp, "af": npos, "other": nneg}
            result["af_windows_alone"][key] = {"sensitivity": se1, "specificity": sp1}
            result["af_windows_in_context"][key] = {"sensitivity": se2, "specificity": sp2}
            lines.append(f"| {label} ({len(group)}) | {npos} | {nneg} | {se:.3f} | {sp:.3f} | {se1:.3f} | {sp1:.3f} "
                         f"| {se2:.3f} | {sp2:.3f} |")
    lines += ["", "## AF burden per record (records with AF annotated or found)", "",
              "| record | split | annotated % | found % | error (points) |", "|---|---|---|---|---|"]
    errors = []
    for r in names:
        bt, bp = rows[r]["burden_true"], rows[r]["burden_pred"]
        errors.append(abs(bt - bp))
        if bt > 0 or bp > 0:
            split = "DS1" if r in DS1 else "DS2" if r in DS2 else "paced"
            lines.append(f"| {r} | {split} | {bt:.1f} | {bp:.1f} | {abs(bt - bp):.1f} |")
    lines += ["", f"Largest burden error over all {len(names)} records: {max(errors):.1f} points; "
              f"mean {np.mean(errors):.2f}.", ""]
    lines += ["## Pauses and VT runs against the annotations", "",
              "Pauses: annotated beats ≥ 2 s apart; VT: '(VT' / '(VFL' episodes. Found = overlaps one of ours.", "",
              "| kind | annotated | found | sensitivity | ours | ours matching | PPV |", "|---|---|---|---|---|---|---|"]
    for kind in ("pause", "vt"):
        found, n, match, npred = (sum(rows[r][kind][i] for r in names) for i in range(4))
        lines.append(f"| {kind} | {n} | {found} | {found / max(n, 1):.3f} | {npred} | {match} | "
                     f"{match / max(npred, 1):.3f} |")
    paced_rows = [r for r in names if rows[r]["paced"]["annotated"] > 0 or rows[r]["paced"]["found"] > 0]
    lines += ["", "## Paced records", "",
              "Beats annotated paced ('/', 'f') and called P (spike before a wide QRS); '(P' rhythm time and our "
              "paced episodes; what else the record reads as.", "",
              "| record | paced beats annotated | P beats found | '(P' time | paced episodes | L beats | V beats "
              "| sinus episodes | Pacing rhythm statement |", "|---|---|---|---|---|---|---|---|---|"]
    for r in paced_rows:
        pc = rows[r]["paced"]
        lines.append(f"| {r} | {100 * pc['annotated']:.1f} % | {100 * pc['found']:.1f} % | "
                     f"{100 * pc['episodes_true']:.1f} % | {100 * pc['episodes_found']:.1f} % | {100 * pc['L']:.1f} % | "
                     f"{100 * pc['V']:.1f} % | {100 * pc['sinus']:.1f} % | {pc['statement']:.2f} |")
    worst = sorted(((cover, r, kind) for r in names for kind, cover in rows[r]["false"]), reverse=True)
    over = [w for w in worst if w[0] > FALSE_BURDEN]
    lines += ["", "## False burden", "",
              f"Each episode kind (share of the record's time) and beat class (share of its beats) on every record "
              f"whose annotations have none of it: {len(over)} cases over {100 * FALSE_BURDEN:.0f} %. Worst ten:", "",
              "| record | what | covers |", "|---|---|---|"]
    lines += [f"| {r} | {kind} | {100 * cover:.1f} % |" for cover, r, kind in worst[:10]]
    lines += ["", f"({time.perf_counter() - started:.0f} s)", ""]
    result.update(burden_error_max=max(errors), burden_error_mean=float(np.mean(errors)),
                  false_burden=[{"record": r, "what": k, "covers": c} for c, r, k in worst[:10]],
                  pause=[sum(rows[r]["pause"][i] for r in names) for i in range(4)],
                  vt=[sum(rows[r]["vt"][i] for r in names) for i in range(4)],
                  paced={r: rows[r]["paced"] for r in paced_rows})
    return result, "\n".join(lines)


# ---- beats on DS2 --------------------------------------------------------------------------------------------
def resampled(rec: ECGRecord, fs: float) -> ECGRecord:
    """The record at another rate (polyphase), annotations moved to the new sample grid."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    ratio = Fraction(fs / rec.fs).limit_denominator(1000)
    sig = resample_poly(rec.signal.astype(np.float64), ratio.numerator, ratio.denominator, axis=1)
    ann = rec.beats
    beats = BeatAnnotations(np.round(np.asarray(ann.sample) * fs / rec.fs).astype(np.int64), ann.symbol, ann.aux_note)
    return replace(rec, signal=sig.astype(np.float32), fs=fs, beats=beats)


def one_lead(rec: ECGRecord) -> ECGRecord:
    return replace(rec, signal=rec.signal[:1], leads=rec.leads[:1])


def confusion(records: Sequence[ECGRecord], read: Callable[[ECGRecord], ECGFindings] = block_read
              ) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for rec in records:
        f = read(rec)
        detected = np.round(f.beat_times_s * rec.fs)
        truth = annotated_classes(detected, rec.beats.sample, rec.beats.symbol, rec.fs)
        pairs = [*zip(truth, f.beat_classes, strict=True),
                 *((t, MISSED) for t in missed_classes(detected, rec.beats.sample, rec.beats.symbol, rec.fs))]
        for pair in pairs:
            out[pair] = out.get(pair, 0) + 1
    return out


def _sens_ppv(conf: dict[tuple[str, str], int], c: str) -> tuple[float, float]:
    tp = conf.get((c, c), 0)
    true = sum(v for (t, _), v in conf.items() if t == c)
    pred = sum(v for (_, p), v in conf.items() if p == c)
    return tp / max(true, 1), tp / max(pred, 1)


def beats_report(mitdb: Path, records: Sequence[str] = tuple(sorted(DS2))) -> tuple[dict, str]:
    started = time.perf_counter()
    variants = {"as recorded (360 Hz, 2 leads)": (lambda r: r, block_read),
                "resampled 128 Hz": (lambda r: resampled(r, 128.0), block_read),
                "resampled 200 Hz": (lambda r: resampled(r, 200.0), block_read),
                "resampled 250 Hz": (lambda r: resampled(r, 250.0), block_read),
                "second lead removed": (one_lead, block_read),
                "as recorded, read whole by `read_findings` (as `measure` and chat read a file)":
                    (lambda r: r, read_findings)}
    lines = ["## Beats on MIT-BIH DS2 (22 records never trained on)", "",
             "Detected beats matched to the annotations within 150 ms (a detection matching none: Q); an annotated "
             "beat no detection matched counts as missed in its class's sensitivity. Sensitivity / PPV per class; "
             "L and R are the record-level conduction read (QRS ≥ 120 ms and the V1 terminal deflection).", "",
             "| variant | " + " | ".join(SCORED_CLASSES) + " |", "|---|" + "---|" * len(SCORED_CLASSES)]
    first, result = None, {}
    for name, (make, read) in variants.items():
        conf = confusion([make(read_record(mitdb / r)) for r in records], read)
        first = first or conf
        result[name] = {c: dict(zip(("sensitivity", "ppv"), _sens_ppv(conf, c), strict=True)) for c in SCORED_CLASSES}
        cells = [f"{s:.3f} / {p:.3f}" for s, p in (_sens_ppv(conf, c) for c in SCORED_CLASSES)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    classes = (*SCORED_CLASSES, "Q")
    lines += ["", "Confusion as recorded (rows annotated, columns ours; Q: a detection matching no annotated beat, "
              f"{MISSED}: an annotated beat no detection matched):", "", "```",
              "     " + "".join(f"{c:>7}" for c in (*classes, MISSED))]
    lines += [f"{t:<5}" + "".join(f"{first.get((t, p), 0):>7}" for p in (*classes, MISSED)) for t in classes]
    lines += ["```", "", f"({time.perf_counter() - started:.0f} s)", ""]
    return result, "\n".join(lines)


PARTS = {"rhythm": rhythm_report, "beats": beats_report}


def part(name: str, shared: Path, command: str) -> tuple[dict, str]:
    """`anyecg eval findings --part rhythm|beats`: (figures, Markdown with the command at the top)."""
    result, body = PARTS[name](shared / "mitdb")
    return result, "\n".join([f"# Findings: {name}", "", "Made by:", "", "```", command, "```", "", body])


def rhythm_part(shared: Path, command: str) -> tuple[dict, str]:
    """`anyecg eval findings --part rhythm`."""
    return part("rhythm", shared, command)


def beats_part(shared: Path, command: str) -> tuple[dict, str]:
    """`anyecg eval findings --part beats`."""
    return part("beats", shared, command)
