"""`scan`: find abnormal segments in recordings of minutes to days (Holter, home ECG).

Two engines share one first step, the machine read of the whole span (`anyecg.findings.stream`: every beat detected
and classified, rhythm episodes — AF/AFL, VT/SVT runs, pauses, bigeminy/trigeminy, brady/tachycardia — read block
by block in bounded memory):

- `findings` (default, no LLM): beat-type targets are localized by the paper's interval rule on the classified
  beats. On the 22 held-out MIT-BIH DS2 records it finds more of the annotated PVCs and APCs, with fewer false
  episodes, than the LLM engine with releases 2, 3 or 4 of the embedded model, at thousands × real time
  (`benchmarks/bench_scan.py --parts ds2`; docs/results/scan_ds2.md).
- `llm` (the paper's way, for research): sliding windows (default `DEFAULT_WINDOW_S`, what the embedded model was
  trained on) are read one at a time; a (window, beat type) question goes to the model only when a screen (the beat
  head, or the machine read) finds a beat of that class in the window (the others are answered "none"), questions
  are batched, answers the window's machine read contradicts are verified (`ECGChat.verified`; off with
  `--no-verify`), and the intervals found are merged in absolute time. `--screen agree` asks the model only where
  its beat head and the machine read disagree (where both find the type, the read's intervals stand): 16× real
  time on MIT-BIH 208 and 63× on 100 (30 min each) against 5× and 29× for the head screen (5 min each).

Rhythm episodes always come from the findings. Outputs: episodes (CSV/JSON), per-target summary, a PNG/HTML
overview and the Holter report (`anyecg.holter`).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from anyecg.atomic import atomic_path, write_atomic
from anyecg.chat import MIN_SECONDS, ECGChat, Prepared
from anyecg.errors import AnyECGError
from anyecg.findings.locate import TARGET_EPISODES, target_intervals
from anyecg.findings.stream import beat_track, rhythm_findings
from anyecg.findings.types import EPISODE_KINDS, ECGFindings
from anyecg.holter import HolterSummary, narrate, summarize, write_report
from anyecg.io import read_info
from anyecg.model.beats import screened_out
from anyecg.signal.beats import SYMBOL_CLASS
from anyecg.signal.intervals import merge_intervals
from anyecg.signal.preprocess import iter_windows
from anyecg.targets import DEFAULT_SCAN, SCAN_ENGINES, SCAN_SCREENS, Target, resolve_target
from anyecg.timebase import DEFAULT_WINDOW_S, clock, format_clock

# Findings episode kinds listed by scan (plain sinus rhythm is the background, not an episode worth listing).
SCAN_EPISODE_KINDS = tuple(k for k in EPISODE_KINDS if k != "sinus")


@dataclass(frozen=True)
class Episode:
    target: str  # a beat-type target key ('V') or a findings episode kind ('AF', 'pause')
    description: str
    start_s: float  # seconds from the recording start
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class ScanResult:
    source: str
    duration_s: float  # of the scanned span
    start_time: dt.datetime | None
    window_s: float
    step_s: float
    targets: list[Target]
    engine: str = SCAN_ENGINES[0]
    start_s: float = 0.0  # where the scanned span starts (seconds from the recording start)
    episodes: list[Episode] = field(default_factory=list)
    findings: ECGFindings | None = None  # the machine read of the span (times from `start_s`)
    n_windows: int = 0
    n_questions: int = 0
    n_prescreened: int = 0  # questions answered "none" from the findings without the LLM
    n_from_read: int = 0  # questions answered with the read's intervals where the beat head agrees with it (`agree`)
    invalid_answers: int = 0
    elapsed_s: float = 0.0
    findings_s: float = 0.0  # of which the machine read

    def clock(self, seconds: float) -> str:
        """Wall-clock time when the file has a start time, else elapsed hh:mm:ss.s."""
        return clock(seconds, self.start_time, with_date=True)

    @property
    def rows(self) -> list[tuple[str, str]]:
        """(key, description) of each summary row: the beat targets, then the episode kinds found."""
        asked = {k for t in self.targets if t.kind == "rhythm" for k in TARGET_EPISODES.get(t.key, ())}
        kinds = [k for k in SCAN_EPISODE_KINDS if k in asked or any(e.target == k for e in self.episodes)]
        beat = [(t.key, t.description) for t in self.targets if t.kind == "beat"]
        return beat + [(k, EPISODE_KINDS[k]) for k in kinds]

    def summary(self) -> list[dict[str, Any]]:
        """Per target and episode kind: episode count, total time, burden (% of the span), longest episode."""
        rows = []
        for key, description in self.rows:
            eps = [e for e in self.episodes if e.target == key]
            total = sum(e.duration_s for e in eps)
            longest = max(eps, key=lambda e: e.duration_s, default=None)
            rows.append({"target": key, "description": description, "episodes": len(eps),
                         "total_s": round(total, 1), "burden_pct": round(100 * total / self.duration_s, 2),
                         "longest_s": round(longest.duration_s, 1) if longest else 0.0,
                         "longest_at": self.clock(longest.start_s) if longest else ""})
        return rows

    def holter(self) -> HolterSummary:
        """The Holter summary of the span (the findings' beats and episodes; times from the span's start)."""
        f = self.findings
        start = self.start_time + dt.timedelta(seconds=self.start_s) if self.start_time else None
        if f is None:
            return summarize(self.source, self.duration_s, np.zeros(0), [], [], start)
        return summarize(self.source, self.duration_s, f.beat_times_s, f.beat_classes, f.episodes, start)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "engine": self.engine, "start_s": round(self.start_s, 3),
            "duration_s": round(self.duration_s, 3),
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "window_s": self.window_s, "step_s": self.step_s, "windows": self.n_windows,
            "questions": self.n_questions, "prescreened": self.n_prescreened, "from_read": self.n_from_read,
            "invalid_answers": self.invalid_answers,
            "elapsed_s": round(self.elapsed_s, 2), "findings_s": round(self.findings_s, 2),
            "speed_x_realtime": round(self.duration_s / self.elapsed_s, 1) if self.elapsed_s else None,
            "n_beats": self.findings.n_beats if self.findings is not None else None,
            "notes": list(self.findings.notes) if self.findings is not None else [],
            "summary": self.summary(),
            "episodes": [{"target": e.target, "description": e.description, "start_s": round(e.start_s, 1),
                          "end_s": round(e.end_s, 1), "start": self.clock(e.start_s), "end": self.clock(e.end_s)}
                         for e in self.episodes],
        }

    def _windows_text(self) -> str:
        return f", {self.n_windows} windows of {self.window_s:g} s" if self.engine == "llm" else ""

    def write_json(self, path: str | Path) -> None:
        write_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")

    def write_csv(self, path: str | Path) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["target", "description", "start_s", "end_s", "duration_s", "start", "end"])
        for e in self.episodes:
            writer.writerow([e.target, e.description, f"{e.start_s:.1f}", f"{e.end_s:.1f}", f"{e.duration_s:.1f}",
                             self.clock(e.start_s), self.clock(e.end_s)])
        write_atomic(path, buf.getvalue())

    def plot_png(self) -> bytes:
        """Timeline: one row per target / episode kind, found episodes as bars over the scanned span."""
        from matplotlib.figure import Figure

        rows = self.rows
        hours = self.duration_s >= 3 * 3600
        scale, unit = (3600.0, "h") if hours else (60.0, "min")
        fig = Figure(figsize=(12, 0.45 * max(len(rows), 1) + 1.6), dpi=110)
        ax = fig.add_subplot()
        t0 = self.start_s
        for row, (key, _) in enumerate(rows):
            spans = [((e.start_s - t0) / scale, max(e.duration_s / scale, self.duration_s / scale / 800))
                     for e in self.episodes if e.target == key]
            ax.broken_barh(spans, (row - 0.35, 0.7), color="tab:red")
        ax.set_yticks(range(len(rows)), [f"{key}  {description}" for key, description in rows])
        ax.set_xlim(0, self.duration_s / scale)
        ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
        ax.invert_yaxis()
        ax.set_xlabel(f"time from {self.clock(t0)} ({unit})")
        ax.set_title(f"{Path(self.source).name}: {len(self.episodes)} episodes in {format_clock(self.duration_s)}")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()  # room for the full labels
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def write_png(self, path: str | Path) -> None:
        write_atomic(path, self.plot_png())

    def write_html(self, path: str | Path) -> None:
        """One self-contained page: the timeline, the summary and the episode table."""
        img = base64.b64encode(self.plot_png()).decode()
        summary = "".join(
            f"<tr><td>{html.escape(r['target'])}</td><td>{html.escape(r['description'])}</td><td>{r['episodes']}</td>"
            f"<td>{r['total_s']}</td><td>{r['burden_pct']}</td><td>{r['longest_s']}</td></tr>" for r in self.summary())
        episodes = "".join(
            f"<tr><td>{html.escape(e.target)}</td><td>{self.clock(e.start_s)}</td><td>{self.clock(e.end_s)}</td>"
            f"<td>{e.duration_s:.1f}</td></tr>" for e in self.episodes)
        page = (f"<!doctype html><meta charset='utf-8'><title>anyecg scan: {html.escape(Path(self.source).name)}"
                f"</title><style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 10px;text-align:left}}"
                f"</style><h1>Scan of {html.escape(self.source)}</h1><p>{format_clock(self.duration_s)} of ECG from "
                f"{self.clock(self.start_s)}, engine {self.engine}{self._windows_text()}. "
                f"Research use only; not a medical device.</p>"
                f"<img alt='timeline' src='data:image/png;base64,{img}' style='max-width:100%'>"
                f"<h2>Summary</h2><table><tr><th>type</th><th>description</th><th>episodes</th><th>total s</th>"
                f"<th>burden %</th><th>longest s</th></tr>{summary}</table><h2>Episodes</h2><table><tr><th>type</th>"
                f"<th>start</th><th>end</th><th>seconds</th></tr>{episodes}</table>")
        with atomic_path(path) as tmp:
            tmp.write_text(page, encoding="utf-8")

    def write_all(self, out: str | Path, record_path: str | Path, read_options: dict[str, Any] | None = None,
                  write: Callable[[str], str] | None = None) -> Path:
        """<file>.scan.{json,csv,png,html} and the Holter report (holter.{json,html}) in `out`; `write` (a language
        model, prompt → text, e.g. `ECGChat.write_text`) rewords the report's summary paragraph, checked
        (`anyecg.holter.narrate`)."""
        out = Path(out)
        stem = Path(self.source).name
        self.write_json(out / f"{stem}.scan.json")
        self.write_csv(out / f"{stem}.scan.csv")
        self.write_png(out / f"{stem}.scan.png")
        self.write_html(out / f"{stem}.scan.html")
        holter = self.holter()
        if write is not None:
            narrate(holter, write)
        write_report(holter, out, record_path, read_options, offset_s=self.start_s)
        return out


def _windows(path: str | Path, window_s: float, step_s: float, span: tuple[float, float],
             options: dict[str, Any]) -> Iterator[Prepared]:
    for x in iter_windows(path, window_s, step_s, start_s=span[0], end_s=span[1], **options):
        if x.duration_s >= MIN_SECONDS:  # a tail shorter than the model's minimum is left out
            yield Prepared(x, None)


def _span(path: str | Path, duration_s: float, start_s: float | None, end_s: float | None) -> tuple[float, float]:
    a0 = 0.0 if start_s is None else float(start_s)
    a1 = duration_s if end_s is None else min(float(end_s), duration_s)
    if not (np.isfinite(a0) and np.isfinite(a1)) or a0 < 0 or a1 - a0 < MIN_SECONDS:
        raise AnyECGError(f"{path}: scan window {a0:g}-{a1:g} s is not a span of at least {MIN_SECONDS:g} s "
                          f"inside the recording (0-{duration_s:g} s)")
    return a0, a1


def _present(f: ECGFindings, a: float, b: float) -> set[str]:
    """Beat classes the findings have in [a, b) (seconds from the findings' start)."""
    i, j = np.searchsorted(f.beat_times_s, [a, b])
    return set(f.beat_classes[i:j])


def scan(chat: ECGChat | None, path: str | Path, *, targets: Sequence[str] = DEFAULT_SCAN,
         engine: str = SCAN_ENGINES[0], start_s: float | None = None, end_s: float | None = None,
         window_s: float = DEFAULT_WINDOW_S, overlap_s: float = 0.0, batch_size: int = 8,
         leads: Sequence[str] | None = None, lead_map: str | None = None, fs: float | None = None,
         progress: bool = True, prescreen: bool = True, screen: str = "auto",
         on_window: Callable[[int, int], None] | None = None) -> ScanResult:
    """Localize every target over `start_s`-`end_s` of a long recording (default: all of it); merge the findings
    in absolute time (seconds from the recording start).

    engine "findings" (default) needs no model (`chat` may be None). With engine "llm", prescreen: a beat-type
    question goes to the LLM only when a screen finds a beat of that class in the window: "head", the beat
    encoder's own head (`ECGChat.screened`, release 2's rule, what `locate` does; with `chat.verify`, as `locate`,
    where the machine read finds none either), or "findings", the machine read's beat classes; "auto" (default)
    takes the head when the model has one, else the findings. The others count as answered "none"
    (`n_prescreened`). "agree" (a model with a head; else "findings") asks the LLM only where the head and the
    machine read disagree on whether the window holds the type: where both find none the answer is "none", where
    both find it the read's intervals in the window (`n_from_read`): the LLM adjudicates what its two perceptions
    dispute. With `chat.verify`, answers the window's read contradicts are verified (`ECGChat.verified`).
    benchmarks/bench_scan.py measures the engines and the screens against the annotations. on_window(done, total)
    is called after each window's questions are queued (an exception it raises, e.g. to cancel, stops the scan).
    """
    if engine not in SCAN_ENGINES:
        raise AnyECGError(f"--engine must be one of {', '.join(SCAN_ENGINES)}, got {engine!r}")
    if engine == "llm" and chat is None:
        raise AnyECGError("engine 'llm' needs a model")
    if screen not in SCAN_SCREENS:
        raise AnyECGError(f"screen must be one of {', '.join(SCAN_SCREENS)}, got {screen!r}")
    if screen in ("auto", "agree") and not (chat is not None and chat.processor.kind.classifies_beats):
        screen = "findings"
    elif screen == "auto":
        screen = "head"
    if not 10.0 <= window_s <= 600.0:
        raise AnyECGError(f"--window must be between 10 and 600 s, got {window_s:g}")
    if not 0.0 <= overlap_s < window_s:
        raise AnyECGError(f"--overlap must be ≥ 0 and shorter than the window ({window_s:g} s), got {overlap_s:g}")
    info = read_info(path, lead_map=lead_map, fs=fs)
    a0, a1 = _span(path, info.duration_s, start_s, end_s)
    step_s = window_s - overlap_s
    resolved = [resolve_target(t) for t in targets]
    result = ScanResult(str(path), a1 - a0, info.start_time, window_s, step_s, resolved, engine=engine, start_s=a0)
    started = time.perf_counter()
    f = rhythm_findings(beat_track(path, start_s=a0, end_s=a1, lead_map=lead_map, fs=fs))
    result.findings = f
    result.findings_s = time.perf_counter() - started
    found: dict[str, list[tuple[float, float]]] = {t.key: [] for t in resolved}
    beat_targets = [t for t in resolved if t.kind == "beat"]
    if engine == "findings":
        for t in beat_targets:
            found[t.key] = [(a0 + a, a0 + b) for a, b in target_intervals(f, t.key) or []]
    else:
        _ask_windows(chat, path, result, beat_targets, found, (a0, a1), batch_size, prescreen and screen, progress,
                     on_window, {"leads": leads, "lead_map": lead_map, "fs": fs})
    episodes = [Episode(t.key, t.description, a, b) for t in beat_targets for a, b in merge_intervals(found[t.key])]
    episodes += [Episode(e.kind, EPISODE_KINDS[e.kind], a0 + e.start_s, a0 + e.end_s) for e in f.episodes
                 if e.kind in SCAN_EPISODE_KINDS]
    result.episodes = sorted(episodes, key=lambda e: (e.start_s, e.target))
    result.elapsed_s = time.perf_counter() - started
    return result


def _ask_windows(chat: ECGChat, path: str | Path, result: ScanResult, targets: Sequence[Target],
                 found: dict[str, list[tuple[float, float]]], span: tuple[float, float], batch_size: int,
                 screen: str | bool, progress: bool, on_window: Callable[[int, int], None] | None,
                 options: dict[str, Any]) -> None:
    """The LLM engine: windows × beat targets through `ECGChat.locate_prepared` (its answers verified against the
    window's machine read when `chat.verify`), screened by the findings (`screen` "findings"), by the beat encoder's
    head ("head"; with `verify`, only where the findings agree), by both ("agree": the LLM only where they
    disagree) or not at all (False)."""
    f = result.findings
    read = {t.key: target_intervals(f, t.key) or [] for t in targets} if screen == "agree" else {}
    n_windows = max(1, int((span[1] - span[0] - MIN_SECONDS) // result.step_s) + 1)
    bar = tqdm(total=n_windows, unit="window", desc="scan", disable=not progress)
    pending: list[tuple[Prepared, Target]] = []

    def flush() -> None:
        # screened while queueing (below), so that each generation holds `batch_size` questions for the LLM
        answers = chat.locate_prepared([p for p, _ in pending], [t for _, t in pending], prescreen=False)
        for loc in answers:
            result.invalid_answers += not loc.valid
            found[loc.target.key] += [(x.abs_start_s, x.abs_end_s) for x in loc.findings]
        result.n_questions += len(pending)
        pending.clear()

    for prepared in _windows(path, result.window_s, result.step_s, span, options):
        result.n_windows += 1
        bar.update(1)
        w0 = prepared.input.start_s - span[0]
        w1 = w0 + prepared.input.duration_s
        present = _present(f, w0, w1)
        for t in targets:
            # agree: a type neither perception has a class for goes to the LLM
            read_none = screened_out(t.key, present)
            if screen == "agree" and t.key in SYMBOL_CLASS and chat.screened(prepared, t) == read_none:
                if read_none:
                    result.n_prescreened += 1
                else:  # both find the type: the read's intervals inside the window
                    result.n_from_read += 1
                    found[t.key] += [(span[0] + max(a, w0), span[0] + min(b, w1)) for a, b in read[t.key]
                                     if a < w1 and b > w0]
                continue
            # the head's "none" stands, with `verify` on, only where the machine read finds none either
            by_head = screen == "head" and chat.screened(prepared, t) and \
                (not chat.verify or read_none)
            if by_head or (screen == "findings" and read_none):
                result.n_prescreened += 1
                continue
            pending.append((prepared, t))
            if len(pending) >= batch_size:
                flush()
        if on_window is not None:
            on_window(result.n_windows, n_windows)
    if pending:
        flush()
    bar.close()
