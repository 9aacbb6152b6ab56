"""Holter report: what Holter software prints, from the machine read of a whole recording.

Input: every beat of the recording (time from the recording start and class, `anyecg.signal.beats.BEAT_CLASSES`)
and the rhythm episodes (`anyecg.findings.Episode`, seconds from the recording start). Output: `HolterSummary`
(totals, per-class counts and burden, heart rate min/mean/max with times, hourly trend, episode statistics, the key
events) as JSON, and a self-contained HTML page ready to print to PDF (A4) with the hourly heart-rate trend and the
key events drawn on ECG paper. Every number on the page comes from `HolterSummary.to_dict()`, the JSON written
beside it. The summary paragraph is the template's (`HolterSummary.narrative`) or, given a model, the model's own
rewording of it, kept only when every number and finding it states is in the template's and it keeps the totals
(`narrate`); a rejected rewording is listed in the JSON with the reasons.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from anyecg.atomic import write_atomic
from anyecg.checks import mentions
from anyecg.findings.types import EPISODE_KINDS, RHYTHM_KINDS, SINUS_KINDS, Episode
from anyecg.timebase import clock, format_clock

HR_BIN_S = 60.0  # heart rate is reported per minute (min/max over minutes with enough beats)
MIN_BEATS_PER_BIN = 10  # a minute with fewer detected beats (noise, lead off) gives no heart rate
STRIP_S = 10.0  # key-event strips: 10 s on ECG paper
MAX_STRIPS = 6
_CLASS_NAMES = {"N": "Normal", "V": "Ventricular ectopic", "S": "Supraventricular ectopic", "L": "LBBB",
                "R": "RBBB", "F": "Fusion", "Q": "Unclassified"}


@dataclass(frozen=True)
class KeyEvent:
    """An event worth a strip: why it was chosen, where it is, what it measured."""

    title: str
    kind: str
    start_s: float
    end_s: float
    detail: str


@dataclass
class HolterSummary:
    source: str
    duration_s: float
    start_time: dt.datetime | None
    n_beats: int
    class_counts: dict[str, int]
    hr_mean_bpm: float | None
    hr_min: tuple[float, float] | None  # (bpm, time of the minute's start in s)
    hr_max: tuple[float, float] | None
    hourly: list[dict[str, Any]]
    episodes: list[Episode]
    episode_stats: list[dict[str, Any]]
    key_events: list[KeyEvent] = field(default_factory=list)
    minute_hr: list[float | None] = field(default_factory=list)
    written: str | None = None  # the model's narrative, where it passed `narrative_problems`
    rejected: dict[str, Any] | None = None  # the model's narrative that did not, with the reasons

    def clock(self, seconds: float) -> str:
        """Wall-clock time when the recording has a start time, else elapsed hh:mm:ss.s."""
        return clock(seconds, self.start_time, with_date=True)

    def burden_pct(self, cls: str) -> float:
        return round(100.0 * self.class_counts.get(cls, 0) / self.n_beats, 2) if self.n_beats else 0.0

    def stat(self, kind: str) -> dict[str, Any] | None:
        return next((s for s in self.episode_stats if s["kind"] == kind), None)

    def rhythm(self) -> list[dict[str, Any]]:
        """The underlying rhythm (`RHYTHM_KINDS`): each kind's share of the recording, largest first."""
        rows = [{"kind": s["kind"], "name": s["name"], "pct": s["burden_pct"]} for s in self.episode_stats
                if s["kind"] in RHYTHM_KINDS]
        return sorted(rows, key=lambda r: -r["pct"])

    def narrative(self) -> str:
        """A short report written from the numbers (each sentence names numbers of `to_dict()`)."""
        parts = [f"{format_clock(self.duration_s)} of ECG analysed, {self.n_beats} beats."]
        rhythm = [r for r in self.rhythm() if r["pct"] >= 1.0]
        if rhythm:
            parts.append("Underlying rhythm: " + ", ".join(f"{r['name'].lower()} {r['pct']:g} %" for r in rhythm)
                         + " of the time.")
        if self.hr_mean_bpm is not None and self.hr_min and self.hr_max:
            parts.append(f"Heart rate mean {self.hr_mean_bpm:.0f} bpm, minimum {self.hr_min[0]:.0f} bpm at "
                         f"{self.clock(self.hr_min[1])}, maximum {self.hr_max[0]:.0f} bpm at {self.clock(self.hr_max[1])}.")
        for cls in ("V", "S"):
            n = self.class_counts.get(cls, 0)
            if n:
                parts.append(f"{n} {_CLASS_NAMES[cls].lower()} beats ({self.burden_pct(cls):g} % of beats).")
        for s in self.episode_stats:
            if s["kind"] in SINUS_KINDS:
                continue
            line = f"{s['name']}: {s['count']} episode{'s' * (s['count'] != 1)}, burden {s['burden_pct']:g} %"
            line += f", longest {s['longest_s']:.1f} s at {s['longest_at']}"
            if s.get("fastest_bpm"):
                line += f", fastest {s['fastest_bpm']:.0f} bpm"
            parts.append(line + ".")
        if not any(s["kind"] not in SINUS_KINDS for s in self.episode_stats):
            parts.append("No arrhythmia episodes found.")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "duration_s": round(self.duration_s, 1),
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "n_beats": self.n_beats,
            "classes": [{"class": c, "name": _CLASS_NAMES.get(c, c), "count": n, "burden_pct": self.burden_pct(c)}
                        for c, n in sorted(self.class_counts.items(), key=lambda kv: -kv[1])],
            "heart_rate": {
                "mean_bpm": _r(self.hr_mean_bpm),
                "min_bpm": _r(self.hr_min[0]) if self.hr_min else None,
                "min_at": self.clock(self.hr_min[1]) if self.hr_min else None,
                "max_bpm": _r(self.hr_max[0]) if self.hr_max else None,
                "max_at": self.clock(self.hr_max[1]) if self.hr_max else None,
            },
            "hourly": self.hourly,
            "episode_stats": self.episode_stats,
            "rhythm": self.rhythm(),
            "episodes": [{"kind": e.kind, "name": EPISODE_KINDS.get(e.kind, e.kind), "start_s": round(e.start_s, 1),
                          "end_s": round(e.end_s, 1), "start": self.clock(e.start_s), "end": self.clock(e.end_s)}
                         for e in self.episodes],
            "key_events": [{"title": k.title, "kind": k.kind, "start_s": round(k.start_s, 1),
                            "end_s": round(k.end_s, 1), "at": self.clock(k.start_s), "detail": k.detail}
                           for k in self.key_events],
            "narrative": self.written or self.narrative(),
            "narrative_by": "model" if self.written else "template",
            **({"model_narrative_rejected": self.rejected} if self.rejected else {}),
        }


NARRATIVE_PROMPT = ("Rewrite this Holter ECG summary as a short paragraph for a cardiologist. Keep every number, "
                    "time and finding exactly as given and add nothing.\n\n{summary}")
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"  # a clock time as `HolterSummary.clock` writes it
_NUMBER = re.compile(rf"{_CLOCK}|(?<![\w.:])\d+(?:\.\d+)?(?![\d:])")


def _numbers(text: str) -> set[str]:
    """The numbers a text states, normalised ("97", "12.97", and clock times whole: "00:03:02.8")."""
    return {x if ":" in x else f"{float(x):g}" for x in _NUMBER.findall(text)}


_AT_CLOCK = re.compile(rf"(\d+(?:\.\d+)?)\s*(?:bpm|s|%)?\s+at\s+({_CLOCK})")


def _timed(text: str) -> set[tuple[str, str]]:
    """(value, clock time) pairs: "minimum 85 bpm at 00:04:00.0" → ("85", "00:04:00.0")."""
    return {(f"{float(v):g}", c) for v, c in _AT_CLOCK.findall(text)}


def _named(text: str) -> set[str]:
    """The findings a text names: vocabulary statements (not negated), episode kinds and ectopic beat classes."""
    low = text.lower()
    words = (*EPISODE_KINDS.values(), *(f"{_CLASS_NAMES[c]} beats" for c in ("V", "S")))
    return {n for n, _, negated in mentions(text) if not negated} | \
        {w for w in words if re.search(rf"(?<![\w-]){re.escape(w.lower())}(?![\w-])", low)}


def _sentences(text: str) -> list[str]:
    return [x for x in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip()) if x]


def narrative_problems(text: str, template: str, required: Sequence[float] = ()) -> list[str]:
    """Why a written narrative may not stand for the template's: a number or a finding the template does not state,
    a number put beside a finding or a time the template does not state it with, a `required` number (the beat count, the
    mean heart rate) left out, the prompt echoed, or no text."""
    if not text.strip():
        return ["no text"]
    if "keep every number" in text.lower():
        return ["echoes the prompt"]
    facts = [(_numbers(t), _named(t)) for t in _sentences(template)]
    allowed = set().union(*(ns for ns, _ in facts)) if facts else set()
    named = set().union(*(ms for _, ms in facts)) if facts else set()
    problems = [f"states {x}, which the summary does not" for x in sorted(_numbers(text) - allowed)]
    for sentence in _sentences(text):
        names = _named(sentence)
        problems += [f"names {n.lower()}, which the summary does not" for n in sorted(names - named)]
        for name in sorted(names & named):
            for x in sorted(_numbers(sentence) & allowed):
                if not any(x in ns and (name in ms or not ms) for ns, ms in facts):
                    problems.append(f"puts {x} beside {name.lower()}, which the summary does not")
    problems += [f"puts {v} at {c}, which the summary does not" for v, c in sorted(_timed(text) - _timed(template))]
    stated = _numbers(text)
    problems += [f"leaves out {x:g}" for x in required if f"{x:g}" not in stated]
    return problems


def narrate(summary: HolterSummary, write: Callable[[str], str]) -> bool:
    """Ask `write` (a language model: prompt → text) to reword the template narrative; keep its text as the
    summary's narrative when `narrative_problems` finds none, else keep the template's and record the rejection.
    True when the model's text was kept."""
    template = summary.narrative()
    text = write(NARRATIVE_PROMPT.format(summary=template)).strip()
    required = [float(summary.n_beats)] + ([float(round(summary.hr_mean_bpm))] if summary.hr_mean_bpm else [])
    problems = narrative_problems(text, template, required)
    summary.written, summary.rejected = (None, {"text": text, "problems": problems}) if problems else (text, None)
    return not problems


def _r(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(float(v), nd)


def _minute_rates(times: np.ndarray, duration_s: float) -> list[float | None]:
    """Heart rate per minute: 60 / mean RR of the minute's beat pairs (any class), None when too few beats."""
    n_bins = max(1, int(np.ceil(duration_s / HR_BIN_S)))
    out: list[float | None] = [None] * n_bins
    if len(times) < 2:
        return out
    rr = np.diff(times)
    mid = times[1:]
    ok = (rr > 0.2) & (rr < 3.0)  # pauses are reported as episodes, not averaged into the rate
    which = np.minimum((mid // HR_BIN_S).astype(int), n_bins - 1)
    for b in range(n_bins):
        sel = ok & (which == b)
        if sel.sum() >= MIN_BEATS_PER_BIN:
            out[b] = 60.0 / float(rr[sel].mean())
    return out


def _episode_stats(episodes: Sequence[Episode], times: np.ndarray, duration_s: float,
                   clock: Any) -> list[dict[str, Any]]:
    rows = []
    for kind in dict.fromkeys(e.kind for e in episodes):
        eps = [e for e in episodes if e.kind == kind]
        total = sum(e.duration_s for e in eps)
        longest = max(eps, key=lambda e: e.duration_s)
        row: dict[str, Any] = {"kind": kind, "name": EPISODE_KINDS.get(kind, kind), "count": len(eps),
                               "total_s": round(total, 1), "burden_pct": round(100 * total / duration_s, 2),
                               "longest_s": round(longest.duration_s, 1), "longest_at": clock(longest.start_s)}
        if kind in ("VT", "SVT", "AF", "AFL"):
            rates = [(_episode_rate(e, times), e) for e in eps]
            rates = [(r, e) for r, e in rates if r is not None]
            if rates:
                rate, fastest = max(rates, key=lambda x: x[0])
                row["fastest_bpm"] = round(rate, 1)
                row["fastest_at"] = clock(fastest.start_s)
        rows.append(row)
    return rows


def _episode_rate(e: Episode, times: np.ndarray) -> float | None:
    inside = times[(times >= e.start_s - 1e-6) & (times <= e.end_s + 1e-6)]
    if len(inside) < 2:
        return None
    return 60.0 * (len(inside) - 1) / float(inside[-1] - inside[0])


def _key_events(episodes: Sequence[Episode], times: np.ndarray, hr_min: tuple[float, float] | None,
                hr_max: tuple[float, float] | None) -> list[KeyEvent]:
    """The strips a cardiologist looks at first: longest AF/AFL, fastest VT/SVT, longest pause, first
    bigeminy, slowest and fastest minute."""
    events: list[KeyEvent] = []
    by_kind: dict[str, list[Episode]] = {}
    for e in episodes:
        by_kind.setdefault(e.kind, []).append(e)
    for kind in ("VT", "SVT"):
        if kind in by_kind:
            rated = [(_episode_rate(e, times) or 0.0, e) for e in by_kind[kind]]
            rate, e = max(rated, key=lambda x: x[0])
            events.append(KeyEvent(f"Fastest {EPISODE_KINDS[kind].lower()}", kind, e.start_s, e.end_s,
                                   f"{rate:.0f} bpm, {e.duration_s:.1f} s"))
    for kind in ("AF", "AFL", "pause", "bigeminy", "trigeminy"):
        if kind in by_kind:
            e = max(by_kind[kind], key=lambda x: x.duration_s)
            events.append(KeyEvent(f"Longest {EPISODE_KINDS[kind].lower()}", kind, e.start_s, e.end_s,
                                   f"{e.duration_s:.1f} s"))
    for title, hr in (("Slowest minute", hr_min), ("Fastest minute", hr_max)):
        if hr is not None:
            events.append(KeyEvent(title, "rate", hr[1], hr[1] + HR_BIN_S, f"{hr[0]:.0f} bpm"))
    return events[:MAX_STRIPS]


def summarize(source: str | Path, duration_s: float, beat_times_s: np.ndarray, beat_classes: Sequence[str],
              episodes: Sequence[Episode], start_time: dt.datetime | None = None) -> HolterSummary:
    """The Holter summary of a whole recording (beat times and episodes in seconds from its start)."""
    times = np.asarray(beat_times_s, dtype=np.float64)
    if len(times) != len(beat_classes):
        raise ValueError(f"{len(times)} beat times but {len(beat_classes)} classes")
    order = np.argsort(times, kind="stable")
    times = times[order]
    classes = [beat_classes[i] for i in order]
    counts: dict[str, int] = {}
    for c in classes:
        counts[c] = counts.get(c, 0) + 1
    minute = _minute_rates(times, duration_s)
    rated = [(hr, i * HR_BIN_S) for i, hr in enumerate(minute) if hr is not None]
    hr_min = min(rated, default=None)
    hr_max = max(rated, default=None)
    rr = np.diff(times)
    valid = rr[(rr > 0.2) & (rr < 3.0)]
    hr_mean = 60.0 / float(valid.mean()) if len(valid) else None
    summary = HolterSummary(str(source), float(duration_s), start_time, len(times), counts, hr_mean, hr_min, hr_max,
                            [], sorted(episodes, key=lambda e: (e.start_s, e.kind)), [], minute_hr=minute)
    summary.hourly = _hourly(times, classes, minute, duration_s, summary.clock)
    summary.episode_stats = _episode_stats(summary.episodes, times, duration_s, summary.clock)
    summary.key_events = _key_events(summary.episodes, times, hr_min, hr_max)
    return summary


def _hourly(times: np.ndarray, classes: Sequence[str], minute: Sequence[float | None], duration_s: float,
            clock: Any) -> list[dict[str, Any]]:
    rows = []
    cls = np.asarray(classes)
    per_hour = int(3600 / HR_BIN_S)
    for h in range(max(1, int(np.ceil(duration_s / 3600)))):
        sel = (times >= h * 3600) & (times < (h + 1) * 3600)
        rates = [r for r in minute[h * per_hour:(h + 1) * per_hour] if r is not None]
        rows.append({"hour": h, "start": clock(h * 3600.0), "beats": int(sel.sum()),
                     "hr_mean_bpm": _r(float(np.mean(rates))) if rates else None,
                     "hr_min_bpm": _r(min(rates)) if rates else None, "hr_max_bpm": _r(max(rates)) if rates else None,
                     "V": int((cls[sel] == "V").sum()) if len(cls) else 0,
                     "S": int((cls[sel] == "S").sum()) if len(cls) else 0})
    return rows


# ---- rendering -------------------------------------------------------------------------------------------
def trend_png(summary: HolterSummary) -> bytes:
    """Heart rate per minute over the recording, with the hourly mean."""
    from matplotlib.figure import Figure

    minutes = np.arange(len(summary.minute_hr)) * HR_BIN_S
    hr = np.array([np.nan if v is None else v for v in summary.minute_hr], dtype=float)
    hours = summary.duration_s >= 2 * 3600
    scale, unit = (3600.0, "h") if hours else (60.0, "min")
    fig = Figure(figsize=(10, 2.8), dpi=110)
    ax = fig.add_subplot()
    ax.plot(minutes / scale, hr, color="tab:blue", linewidth=0.8, label="per minute")
    hourly = [((r["hour"] * 3600 + min(summary.duration_s, (r["hour"] + 1) * 3600)) / 2, r["hr_mean_bpm"])
              for r in summary.hourly if r["hr_mean_bpm"] is not None]  # at the middle of the hour's data
    if hourly:
        ax.plot([t / scale for t, _ in hourly], [v for _, v in hourly], "o-", color="tab:red", markersize=3,
                linewidth=1.2, label="hourly mean")
    ax.set_xlabel(f"time from recording start ({unit})")
    ax.set_ylabel("heart rate (bpm)")
    ax.set_xlim(0, summary.duration_s / scale)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def strip_png(path: str | Path, event: KeyEvent, read_options: dict[str, Any] | None = None,
              offset_s: float = 0.0) -> bytes:
    """The event's first `STRIP_S` seconds (centred on short events) on ECG paper, the event highlighted
    (`offset_s`: where the summary's time 0 lies in the recording)."""
    from anyecg.io import read_info, read_record
    from anyecg.signal.plot import figure

    options = read_options or {}
    total = read_info(path, **options).duration_s
    e0, e1 = event.start_s + offset_s, event.end_s + offset_s
    mid = (e0 + e1) / 2
    start = e0 - 1.0 if e1 - e0 > STRIP_S - 2 else mid - STRIP_S / 2
    start = min(max(0.0, start), max(0.0, total - STRIP_S))
    end = min(total, start + STRIP_S)
    record = read_record(path, start_s=start, end_s=end, **options)
    hl = [(max(0.0, e0 - start), min(end - start, e1 - start))]
    fig = figure(record, highlight=hl)  # titled with the file, clock time and paper scale
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def render_html(summary: HolterSummary, strips: Sequence[bytes] = ()) -> str:
    """The report page: totals, heart rate, classes, episodes, hourly table, trend plot and strips."""
    d = summary.to_dict()
    hr = d["heart_rate"]
    esc = html.escape

    def cell(v: Any) -> str:
        return "–" if v is None else esc(str(v))

    classes = "".join(f"<tr><td>{esc(c['name'])}</td><td data-k='count-{esc(c['class'])}'>{c['count']}</td>"
                      f"<td data-k='burden-{esc(c['class'])}'>{c['burden_pct']}</td></tr>" for c in d["classes"])
    stats = "".join(
        f"<tr><td>{esc(s['name'])}</td><td data-k='episodes-{esc(s['kind'])}'>{s['count']}</td>"
        f"<td>{s['total_s']}</td><td data-k='eburden-{esc(s['kind'])}'>{s['burden_pct']}</td>"
        f"<td>{s['longest_s']}</td><td>{esc(s['longest_at'])}</td><td>{cell(s.get('fastest_bpm'))}</td></tr>"
        for s in d["episode_stats"]) or "<tr><td colspan=7>No episodes found.</td></tr>"
    hourly = "".join(
        f"<tr><td>{esc(h['start'])}</td><td>{h['beats']}</td><td>{cell(h['hr_min_bpm'])}</td>"
        f"<td>{cell(h['hr_mean_bpm'])}</td><td>{cell(h['hr_max_bpm'])}</td><td>{h['V']}</td><td>{h['S']}</td></tr>"
        for h in d["hourly"])
    events = "".join(
        f"<figure><figcaption>{esc(k['title'])} at {esc(k['at'])}: {esc(k['detail'])}</figcaption>"
        f"{_img(png, k['title'])}</figure>" for k, png in zip(d["key_events"], strips, strict=False))
    name = esc(Path(summary.source).name)
    return f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>Holter report: {name}</title>
<style>
@page {{ size: A4; margin: 14mm; }}
body {{ font-family: sans-serif; margin: 2em; color: #111; }}
h1 {{ font-size: 1.4em; margin-bottom: 0.2em; }} h2 {{ font-size: 1.1em; border-bottom: 1px solid #999; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }} td, th {{ padding: 2px 10px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
.totals td {{ font-weight: bold; }} img {{ max-width: 100%; }} figure {{ margin: 0.5em 0; break-inside: avoid; }}
.note {{ color: #555; font-size: 0.85em; }}
@media print {{ body {{ margin: 0; }} h2 {{ break-after: avoid; }} }}
</style>
<h1>Holter report: {name}</h1>
<p class="note">{esc(summary.source)} &middot; start {esc(summary.clock(0.0))} &middot;
machine read by anyecg; research use only, not a medical device.</p>
<h2>Summary</h2><p id="narrative">{esc(d['narrative'])}</p>
<table class="totals">
<tr><th>Recording</th><td data-k="duration">{esc(format_clock(summary.duration_s))}</td></tr>
<tr><th>Beats</th><td data-k="n_beats">{d['n_beats']}</td></tr>
<tr><th>Mean heart rate (bpm)</th><td data-k="hr_mean">{cell(hr['mean_bpm'])}</td></tr>
<tr><th>Minimum (bpm, 1-min)</th><td data-k="hr_min">{cell(hr['min_bpm'])}</td><td>{cell(hr['min_at'])}</td></tr>
<tr><th>Maximum (bpm, 1-min)</th><td data-k="hr_max">{cell(hr['max_bpm'])}</td><td>{cell(hr['max_at'])}</td></tr>
</table>
<h2>Beats by class</h2><table><tr><th>class</th><th>count</th><th>% of beats</th></tr>{classes}</table>
<h2>Rhythm episodes</h2><table><tr><th>kind</th><th>episodes</th><th>total s</th><th>burden %</th>
<th>longest s</th><th>longest at</th><th>fastest bpm</th></tr>{stats}</table>
<h2>Heart-rate trend</h2>{_img(trend_png(summary), 'heart-rate trend')}
<table><tr><th>hour</th><th>beats</th><th>min</th><th>mean</th><th>max</th><th>V</th><th>S</th></tr>{hourly}</table>
<h2>Key events</h2>{events or '<p>No key events.</p>'}
</html>
"""


def write_report(summary: HolterSummary, out_dir: str | Path, record_path: str | Path | None = None,
                 read_options: dict[str, Any] | None = None, offset_s: float = 0.0) -> dict[str, Path]:
    """holter.json and holter.html in `out_dir` (strips read from `record_path` when given, the summary's time 0
    lying at `offset_s` in it); both atomic."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    strips = ([strip_png(record_path, k, read_options, offset_s) for k in summary.key_events]
              if record_path else [])
    paths = {"json": out / "holter.json", "html": out / "holter.html"}
    write_atomic(paths["json"], json.dumps(summary.to_dict(), indent=2) + "\n")
    write_atomic(paths["html"], render_html(summary, strips))
    return paths
