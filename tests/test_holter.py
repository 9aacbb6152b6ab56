"""Holter report: the summary's numbers from known beats and episodes, and the page in headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from anyecg.findings.types import Episode
from anyecg.holter import NARRATIVE_PROMPT, narrate, narrative_problems, summarize, write_report
from anyecg.io import read_record

# MIT-BIH rhythm notes → episode kinds, for building a reference summary from the annotations in these tests.
_MITDB_KINDS = {"(AFIB": "AF", "(AFL": "AFL", "(VT": "VT", "(SVTA": "SVT", "(B": "bigeminy", "(T": "trigeminy"}


def _two_hours() -> tuple[np.ndarray, list[str], list[Episode]]:
    """60 bpm for the first hour, 90 bpm for the second; every 10th beat of hour 1 a V; one AF episode."""
    first = np.arange(0.5, 3600, 1.0)
    second = np.arange(3600.5, 7200, 60 / 90)
    times = np.concatenate([first, second])
    classes = ["V" if i % 10 == 9 and t < 3600 else "N" for i, t in enumerate(times)]
    return times, classes, [Episode("AF", 4000.0, 4600.0), Episode("pause", 100.0, 102.5)]


def test_summary_numbers() -> None:
    times, classes, episodes = _two_hours()
    s = summarize("synthetic", 7200.0, times, classes, episodes)
    assert s.n_beats == len(times)
    assert s.class_counts["V"] == 360
    assert s.burden_pct("V") == pytest.approx(100 * 360 / len(times), abs=0.01)
    assert s.hr_min[0] == pytest.approx(60.0, abs=0.5) and s.hr_max[0] == pytest.approx(90.0, abs=0.5)
    assert s.hr_max[1] >= 3600.0 > s.hr_min[1]
    assert [h["hr_mean_bpm"] for h in s.hourly] == [pytest.approx(60.0, abs=0.5), pytest.approx(90.0, abs=0.5)]
    assert [h["V"] for h in s.hourly] == [360, 0]
    af = s.stat("AF")
    assert af["count"] == 1 and af["burden_pct"] == pytest.approx(100 * 600 / 7200, abs=0.01)
    assert af["fastest_bpm"] == pytest.approx(90.0, abs=0.5)
    assert {k.kind for k in s.key_events} >= {"AF", "pause", "rate"}
    text = s.narrative()
    assert "360 ventricular ectopic beats" in text and "Atrial fibrillation: 1 episode" in text


def test_underlying_rhythm_shares() -> None:
    times, classes, episodes = _two_hours()
    episodes += [Episode("sinus", 0.5, 3600.0), Episode("sinus_tachy", 3600.0, 4000.0),
                 Episode("sinus", 4600.0, 7199.0)]
    s = summarize("synthetic", 7200.0, times, classes, episodes)
    assert [(r["kind"], r["pct"]) for r in s.to_dict()["rhythm"]] == [
        ("sinus", pytest.approx(86.09, abs=0.01)), ("AF", pytest.approx(8.33, abs=0.01)),
        ("sinus_tachy", pytest.approx(5.56, abs=0.01))]
    assert "Underlying rhythm: sinus rhythm 86.09 %, atrial fibrillation 8.33 %, sinus tachycardia 5.56 %" in \
        s.narrative()
    assert "Sinus rhythm:" not in s.narrative()  # the background is a share, not an episode list


def test_a_model_narrative_stands_only_when_it_checks_against_the_summary(tmp_path: Path) -> None:
    times, classes, episodes = _two_hours()
    s = summarize("synthetic", 7200.0, times, classes, episodes)
    template = s.narrative()
    n, mean = s.n_beats, round(s.hr_mean_bpm)
    good = f"{n} beats were analysed; the heart rate averaged {mean} bpm. There were 360 ventricular ectopic beats."
    asked: list[str] = []
    assert narrate(s, lambda prompt: asked.append(prompt) or good)
    assert asked == [NARRATIVE_PROMPT.format(summary=template)]
    d = s.to_dict()
    assert (d["narrative"], d["narrative_by"]) == (good, "model") and "model_narrative_rejected" not in d
    bad = f"{n} beats, mean {mean} bpm. 360 supraventricular ectopic beats and ventricular tachycardia."
    assert not narrate(s, lambda prompt: bad)
    d = s.to_dict()
    assert (d["narrative"], d["narrative_by"]) == (template, "template")
    assert d["model_narrative_rejected"]["text"] == bad
    assert any("ventricular tachycardia" in p for p in d["model_narrative_rejected"]["problems"])
    paths = write_report(s, tmp_path)
    assert json.loads(paths["json"].read_text())["narrative"] == template


@pytest.mark.parametrize(("text", "problem"), [
    ("", "no text"),
    ("7000 beats, mean 75 bpm.", "states 7000"),
    ("9000 beats, mean 75 bpm. Atrial fibrillation: 1 episode, burden 8.33 %, longest 2.5 s.", "puts 2.5 beside"),
    ("9000 beats, mean 75 bpm. 360 supraventricular ectopic beats.", "names supraventricular ectopic beats"),
    ("9000 beats, mean 75 bpm, minimum 60 bpm at 01:00:00.0.", "puts 60 at 01:00:00.0"),
    ("The recording was analysed.", "leaves out 9000"),
])
def test_narrative_problems(text: str, problem: str) -> None:
    times, classes, episodes = _two_hours()
    s = summarize("synthetic", 7200.0, times, classes, episodes)
    assert s.n_beats == 9000 and round(s.hr_mean_bpm) == 75
    problems = narrative_problems(text, s.narrative(), [9000.0, 75.0])
    assert any(p.startswith(problem) for p in problems), problems


def test_empty_recording_has_no_rates() -> None:
    s = summarize("empty", 30.0, np.zeros(0), [], [])
    d = s.to_dict()
    assert d["n_beats"] == 0 and d["heart_rate"]["mean_bpm"] is None and d["episode_stats"] == []
    assert "No arrhythmia episodes found." in d["narrative"]


def _mitdb_reference(path: Path):
    record = read_record(path)
    beats = record.beats
    from anyecg.signal.beats import SYMBOL_CLASS

    keep = [i for i, sym in enumerate(beats.symbol) if sym in SYMBOL_CLASS]
    times = beats.sample[keep] / record.fs
    classes = [SYMBOL_CLASS[beats.symbol[i]] for i in keep]
    episodes = [Episode(_MITDB_KINDS[e.label], e.start_s, e.end_s) for e in record.events if e.label in _MITDB_KINDS]
    return record, times, classes, episodes


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_report_renders_in_chromium_and_matches_json(shared_data: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs `pip install playwright`")
    if not Path(CHROMIUM).is_file():
        pytest.skip("needs Debian's chromium (apt-get install -y chromium)")
    path = shared_data / "mitdb" / "203"
    record, times, classes, episodes = _mitdb_reference(path)
    s = summarize(str(path), record.duration_s, times, classes, episodes)
    paths = write_report(s, tmp_path, record_path=path)
    data = json.loads(paths["json"].read_text())
    assert data["n_beats"] == len(times) and any(e["kind"] == "AF" for e in data["episode_stats"])
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=flags, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(paths["html"].as_uri())
            shown = page.evaluate("Object.fromEntries([...document.querySelectorAll('[data-k]')]"
                                  ".map(e => [e.dataset.k, e.textContent]))")
            n_images = page.evaluate("[...document.images].filter(i => i.complete && i.naturalWidth > 0).length")
            page.screenshot(path=str(tmp_path / "holter.png"), full_page=True)
        finally:
            browser.close()
    assert int(shown["n_beats"]) == data["n_beats"]
    assert float(shown["hr_mean"]) == data["heart_rate"]["mean_bpm"]
    assert float(shown["hr_min"]) == data["heart_rate"]["min_bpm"]
    for c in data["classes"]:
        assert int(shown[f"count-{c['class']}"]) == c["count"]
        assert float(shown[f"burden-{c['class']}"]) == c["burden_pct"]
    for e in data["episode_stats"]:
        assert int(shown[f"episodes-{e['kind']}"]) == e["count"]
        assert float(shown[f"eburden-{e['kind']}"]) == e["burden_pct"]
    assert n_images == 1 + len(data["key_events"])  # the trend and one strip per key event
    assert (tmp_path / "holter.png").stat().st_size > 10_000
