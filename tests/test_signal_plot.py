"""`anyecg plot`: ECG paper figure, atomic write, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from anyecg.cli import main
from anyecg.io.record import BeatAnnotations, ECGRecord
from anyecg.signal.plot import MM, figure, plot_record

DATA = Path(__file__).parents[2] / "shared" / "data"


def make_record(seconds: float = 20.0, fs: float = 250.0) -> ECGRecord:
    t = np.arange(int(seconds * fs)) / fs
    signal = np.stack([np.sin(2 * np.pi * 1.2 * t), 0.5 * np.cos(2 * np.pi * 1.2 * t)]).astype(np.float32)
    sample = np.arange(100, len(t), 200)
    symbol = tuple("V" if i % 4 == 2 else "N" for i in range(len(sample)))
    beats = BeatAnnotations(sample, symbol, ("",) * len(sample))
    return ECGRecord(signal, fs, ("II", "V1"), source=Path("synthetic"), beats=beats)


def test_true_scale_figure_size():
    fig = figure(make_record(), start_s=0.0, end_s=10.0)
    width_mm = fig.get_figwidth() / MM
    assert width_mm == pytest.approx(14 + 10 * 25 + 5)  # margins + 250 mm of paper for 10 s
    assert len(fig.axes) == 2  # one strip per lead
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"II", "V1", "N", "V"} <= texts


def test_long_window_is_compressed():
    fig = figure(make_record(600.0, fs=100.0), leads=["MLII"])
    assert len(fig.axes) == 6


def test_plot_record_atomic(tmp_path):
    out = plot_record(make_record(), tmp_path / "x.png", start_s=2.0, end_s=14.0, highlight=[(1.0, 2.5)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


@pytest.fixture
def wfdb_file(tmp_path):
    wfdb = pytest.importorskip("wfdb")
    rec = make_record(30.0, fs=360.0)
    wfdb.wrsamp("gen", fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=rec.signal.T.astype(np.float64),
                fmt=["16", "16"], write_dir=str(tmp_path))
    wfdb.wrann("gen", "atr", rec.beats.sample, symbol=list(rec.beats.symbol), write_dir=str(tmp_path))
    return tmp_path / "gen"


def test_cli_plot(wfdb_file, tmp_path, capsys):
    out = tmp_path / "p.png"
    assert main(["plot", str(wfdb_file), "--start", "5", "--end", "15", "--out", str(out),
                 "--leads", "II", "--highlight", "1.9-3.1, 6.8-8.1"]) == 0
    assert out.is_file() and capsys.readouterr().out.strip() == str(out)
    assert main(["plot", str(wfdb_file), "--out", str(tmp_path / "q.svg"), "--highlight", "Duration: 1s-2s"]) == 0
    assert (tmp_path / "q.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize("args, message", [
    (["--highlight", "soon"], "cannot read interval"),
    (["--leads", "V6"], "leaves no lead"),
    (["--start", "40", "--end", "50"], "outside the record"),
    (["--out", "/nonexistent/dir/x.png"], "output folder does not exist"),
])
def test_cli_plot_errors(wfdb_file, tmp_path, capsys, args, message):
    argv = ["plot", str(wfdb_file), *args]
    if "--out" not in args:
        argv += ["--out", str(tmp_path / "e.png")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("anyecg: error:") and message in err and "\n" not in err
    assert not (tmp_path / "e.png").exists()


@pytest.mark.skipif(not (DATA / "mitdb" / "100.hea").is_file(), reason=f"{DATA}/mitdb absent")
def test_cli_plot_mitdb(tmp_path):
    out = tmp_path / "100.png"
    assert main(["plot", str(DATA / "mitdb" / "100"), "--start", "1060", "--end", "1070", "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
