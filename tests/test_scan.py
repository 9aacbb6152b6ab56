"""scan's findings engine, spans in seconds or clock time, and the Holter report it writes (no model needed)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from anyecg.cli import main
from anyecg.errors import AnyECGError
from anyecg.scan import scan
from anyecg.timebase import parse_time


def test_parse_time_seconds_and_clock() -> None:
    assert parse_time("90") == 90.0 and parse_time(12.5) == 12.5
    assert parse_time("01:30") == 90 * 60 and parse_time("0:00:05.5") == 5.5
    start = dt.datetime(2024, 1, 2, 8, 30)
    assert parse_time("08:45:00", start) == 15 * 60  # time of day when the recording has a clock
    assert parse_time("00:15:00", start) == (24 * 3600 - 8.25 * 3600)  # after midnight: the next day
    for bad in ("1:2:3:4", "ab", "1::"):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_findings_engine_on_a_span(shared_data: Path) -> None:
    path = shared_data / "mitdb" / "119"  # ventricular bigeminy and trigeminy episodes, many PVCs
    result = scan(None, path, engine="findings", start_s=60.0, end_s=360.0, progress=False)
    assert result.start_s == 60.0 and result.duration_s == pytest.approx(300.0)
    assert result.n_questions == 0 and result.findings is not None
    for e in result.episodes:
        assert 60.0 - 1e-6 <= e.start_s < e.end_s <= 360.0 + 1e-6
    rows = {r["target"]: r for r in result.summary()}
    assert rows["V"]["episodes"] > 20  # record 119 has PVCs every few beats in these minutes
    assert rows["L"]["episodes"] == 0 and rows["R"]["episodes"] == 0
    holter = result.holter().to_dict()
    assert holter["n_beats"] == result.findings.n_beats
    assert {c["class"] for c in holter["classes"]} >= {"N", "V"}


def test_bad_span_and_engine_are_clear_errors(shared_data: Path) -> None:
    path = shared_data / "mitdb" / "100"
    with pytest.raises(AnyECGError, match="scan window"):
        scan(None, path, engine="findings", start_s=5000, progress=False)
    with pytest.raises(AnyECGError, match="needs a model"):
        scan(None, path, engine="llm", progress=False)
    with pytest.raises(AnyECGError, match="--engine"):
        scan(None, path, engine="fast", progress=False)


def test_cli_findings_engine_writes_the_holter_report(shared_data: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = str(shared_data / "mitdb" / "203")
    assert main(["scan", path, "--engine", "findings", "--start", "00:10:00", "--end", "00:14:00",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "engine findings" in out and "Atrial fibrillation" in out  # 203 is in AF/AFL most of the time
    data = json.loads((tmp_path / "203.scan.json").read_text())
    assert data["start_s"] == 600.0 and data["duration_s"] == pytest.approx(240.0)
    report = json.loads((tmp_path / "holter.json").read_text())
    assert report["n_beats"] == data["n_beats"] and (tmp_path / "holter.html").stat().st_size > 10_000
    assert report["narrative_by"] == "template"  # the findings engine loads no model
    assert main(["scan", path, "--engine", "findings", "--start", "soon"]) == 2
    assert "--start" in capsys.readouterr().err


def test_cli_model_narrative_is_checked(shared_data: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A (tiny, random) model rewords the summary; what it writes fails the checks, so the template stands and the
    rejected text is listed with the reasons."""
    from anyecg.testing.server import tiny_checkpoint

    ckpt = tiny_checkpoint(tmp_path / "ckpt")
    path = str(shared_data / "mitdb" / "100")
    assert main(["scan", path, "--engine", "findings", "--end", "60", "--narrative", "model"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["scan", path, "--model", str(ckpt), "--engine", "findings", "--end", "60", "--narrative", "model",
                 "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "holter.json").read_text())
    assert report["narrative_by"] == "template" and report["model_narrative_rejected"]["problems"]
