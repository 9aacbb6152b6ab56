"""`scan`: find abnormal segments in recordings of minutes to days (Holter, home ECG).

Sliding windows (default `DEFAULT_WINDOW_S`: the 10 s the embedded model was trained on) are read one at a time
from the file (bounded memory), every (window, target) question is batched through the model, and the intervals
found are merged in absolute time. Outputs: episodes table (CSV/JSON), per-target summary, a PNG/HTML overview.
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

from tqdm import tqdm

from anyecg.atomic import atomic_path, write_atomic
from anyecg.chat import MIN_SECONDS, ECGChat, Prepared
from anyecg.errors import AnyECGError
from anyecg.io import read_info
from anyecg.model.beats import screened_out
from anyecg.signal.intervals import merge_intervals
from anyecg.signal.preprocess import iter_windows
from anyecg.targets import DEFAULT_SCAN, Target, resolve_target
from anyecg.timebase import DEFAULT_WINDOW_S, format_clock


@dataclass(frozen=True)
class Episode:
    target: str
    description: str
    start_s: float  # seconds from the recording start
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class ScanResult:
    source: str
    duration_s: float
    start_time: dt.datetime | None
    window_s: float
    step_s: float
    targets: list[Target]
    episodes: list[Episode] = field(default_factory=list)
    n_windows: int = 0
    n_questions: int = 0
    n_prescreened: int = 0  # questions answered "none" by the beat screen without the LLM
    invalid_answers: int = 0
    elapsed_s: float = 0.0

    def clock(self, seconds: float) -> str:
        """Wall-clock time when the file has a start time, else elapsed hh:mm:ss.s."""
        if self.start_time is None:
            return format_clock(seconds)
        return (self.start_time + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")

    def summary(self) -> list[dict[str, Any]]:
        """Per target: episode count, total time, burden (% of the recording), longest episode."""
        rows = []
        for t in self.targets:
            eps = [e for e in self.episodes if e.target == t.key]
            total = sum(e.duration_s for e in eps)
            longest = max(eps, key=lambda e: e.duration_s, default=None)
            rows.append({"target": t.key, "description": t.description, "episodes": len(eps),
                         "total_s": round(total, 1), "burden_pct": round(100 * total / self.duration_s, 2),
                         "longest_s": round(longest.duration_s, 1) if longest else 0.0,
                         "longest_at": self.clock(longest.start_s) if longest else ""})
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "duration_s": round(self.duration_s, 3),
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "window_s": self.window_s, "step_s": self.step_s, "windows": self.n_windows,
            "questions": self.n_questions, "prescreened": self.n_prescreened, "invalid_answers": self.invalid_answers,
            "elapsed_s": round(self.elapsed_s, 2),
            "speed_x_realtime": round(self.duration_s / self.elapsed_s, 1) if self.elapsed_s else None,
            "summary": self.summary(),
            "episodes": [{"target": e.target, "description": e.description, "start_s": round(e.start_s, 1),
                          "end_s": round(e.end_s, 1), "start": self.clock(e.start_s), "end": self.clock(e.end_s)}
                         for e in self.episodes],
        }

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
        """Timeline: one row per target, found episodes as bars over the whole recording."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        hours = self.duration_s >= 3 * 3600
        scale, unit = (3600.0, "h") if hours else (60.0, "min")
        fig, ax = plt.subplots(figsize=(12, 0.6 * len(self.targets) + 1.4))
        for row, t in enumerate(self.targets):
            spans = [(e.start_s / scale, max(e.duration_s / scale, self.duration_s / scale / 800))
                     for e in self.episodes if e.target == t.key]
            ax.broken_barh(spans, (row - 0.35, 0.7), color="tab:red")
        ax.set_yticks(range(len(self.targets)), [f"{t.key} {t.description[:32]}" for t in self.targets])
        ax.set_xlim(0, self.duration_s / scale)
        ax.set_ylim(-0.6, len(self.targets) - 0.4)
        ax.set_xlabel(f"time from recording start ({unit})")
        ax.set_title(f"{Path(self.source).name}: {len(self.episodes)} episodes in {format_clock(self.duration_s)}")
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
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
                f"</style><h1>Scan of {html.escape(self.source)}</h1><p>{format_clock(self.duration_s)} of ECG, "
                f"{self.n_windows} windows of {self.window_s:g} s. Research use only; not a medical device.</p>"
                f"<img alt='timeline' src='data:image/png;base64,{img}' style='max-width:100%'>"
                f"<h2>Summary</h2><table><tr><th>type</th><th>description</th><th>episodes</th><th>total s</th>"
                f"<th>burden %</th><th>longest s</th></tr>{summary}</table><h2>Episodes</h2><table><tr><th>type</th>"
                f"<th>start</th><th>end</th><th>seconds</th></tr>{episodes}</table>")
        with atomic_path(path) as tmp:
            tmp.write_text(page, encoding="utf-8")


def _windows(path: str | Path, window_s: float, step_s: float, options: dict[str, Any]
             ) -> Iterator[Prepared]:
    for x in iter_windows(path, window_s, step_s, **options):
        if x.duration_s >= MIN_SECONDS:  # a tail shorter than the model's minimum is left out
            yield Prepared(x, None)


def scan(chat: ECGChat, path: str | Path, *, targets: Sequence[str] = DEFAULT_SCAN, window_s: float = DEFAULT_WINDOW_S,
         overlap_s: float = 0.0, batch_size: int = 8, leads: Sequence[str] | None = None,
         lead_map: str | None = None, fs: float | None = None, progress: bool = True, prescreen: bool = True,
         on_window: Callable[[int, int], None] | None = None) -> ScanResult:
    """Localize every target in consecutive windows of a long recording; merge the findings in absolute time.

    prescreen: in beat mode, a beat-type question goes to the LLM only when the beat encoder's classifier head
    finds a beat of that type in the window (`ECGChat.beat_classes`); the others count as answered "none"
    (`n_prescreened`). Most windows of a long recording are normal, so this skips most of the LLM's work;
    benchmarks/bench_chat.py measures the speed-up and the agreement with the unscreened scan.
    on_window(done, total) is called after each window's questions are queued (an exception it raises, e.g.
    to cancel, stops the scan).
    """
    if not 10.0 <= window_s <= 600.0:
        raise AnyECGError(f"--window must be between 10 and 600 s, got {window_s:g}")
    if not 0.0 <= overlap_s < window_s:
        raise AnyECGError(f"--overlap must be ≥ 0 and shorter than the window ({window_s:g} s), got {overlap_s:g}")
    info = read_info(path, lead_map=lead_map, fs=fs)
    step_s = window_s - overlap_s
    resolved = [resolve_target(t) for t in targets]
    result = ScanResult(str(path), info.duration_s, info.start_time, window_s, step_s, resolved)
    options: dict[str, Any] = {"leads": leads, "lead_map": lead_map, "fs": fs}
    found: dict[str, list[tuple[float, float]]] = {t.key: [] for t in resolved}
    started = time.perf_counter()
    n_windows = max(1, int((info.duration_s - MIN_SECONDS) // step_s) + 1)
    bar = tqdm(total=n_windows, unit="window", desc="scan", disable=not progress)
    pending: list[tuple[Prepared, Target]] = []

    def flush() -> None:
        answers = chat.locate_prepared([p for p, _ in pending], [t for _, t in pending], prescreen=False)
        for loc in answers:
            result.invalid_answers += not loc.valid
            found[loc.target.key] += [(f.abs_start_s, f.abs_end_s) for f in loc.findings]
        result.n_questions += len(pending)
        pending.clear()

    rhythm = [t.key for t in resolved if t.kind == "rhythm"]
    if rhythm:  # rhythm episodes come from one streamed findings read, not from the LLM per window
        from anyecg.findings.locate import scan_episodes

        found.update(scan_episodes(path, rhythm, lead_map=lead_map, fs=fs))
    for prepared in _windows(path, window_s, step_s, options):
        result.n_windows += 1
        bar.update(1)
        present = chat.beat_classes(prepared) if prescreen else None
        for t in resolved:
            if t.kind == "rhythm":
                continue
            if present is not None and t.kind == "beat" and screened_out(t.key, present):
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
    result.episodes = sorted((Episode(t.key, t.description, a, b) for t in resolved
                              for a, b in merge_intervals(found[t.key])), key=lambda e: (e.start_s, e.target))
    result.elapsed_s = time.perf_counter() - started
    return result
