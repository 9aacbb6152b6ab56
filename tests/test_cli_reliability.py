"""What a new user meets on the command line (issue 16): quiet model commands, argument errors before the model
loads, options between the file and the question, non-ECG channels."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from anyecg.cli import main
from anyecg.testing.server import tiny_checkpoint, write_wfdb

NO_MODEL = "/nonexistent/checkpoint"  # an argument error must be reported before this is even looked at


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ecg")
    return {"ok": write_wfdb(folder, "ok", 30), "art": write_wfdb(folder, "art", 30, leads=("MLII", "ART")),
            "long": write_wfdb(folder, "long", 700, fs=50)}


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, words", [
    (["locate", "{ok}", "--what", "banana"], "cannot locate 'banana'"),
    (["scan", "{ok}", "--what", "V,banana"], "cannot locate 'banana'"),
    (["chat", "{ok}", "--start", "50", "--end", "60", "Rhythm?"], "window 50-60 s lies outside the record"),
    (["report", "{ok}", "--start", "5", "--end", "2"], "window 5-2 s"),
    (["chat", "{art}", "Rhythm?"], "'ART' fit no ECG lead"),
    (["chat", "{ok}", "--leads", "V5", "Rhythm?"], "--leads V5: not in this record"),
    (["scan", "{ok}", "--window", "5"], "--window must be 10-600 s"),
    (["report", "{long}"], "too long to ask about at once"),
])
def test_argument_errors_come_before_the_model_loads(records, capsys, argv, words) -> None:
    argv = [a.format(**{k: str(v) for k, v in records.items()}) for a in argv]
    code, _, err = _run([*argv, "--model", NO_MODEL], capsys)
    assert code == 2 and words in err and "checkpoint" not in err, err


def test_unmapped_channel_error_offers_dropping_not_mapping(records, capsys) -> None:
    _, _, err = _run(["chat", str(records["art"]), "Rhythm?", "--model", NO_MODEL], capsys)
    assert "--drop-unknown" in err and "'ART=-'" in err and "ART=II" not in err


def test_options_between_file_and_question_and_drop_unknown(records, capsys, tmp_path) -> None:
    model = str(tiny_checkpoint(tmp_path / "ckpt"))
    code, out, err = _run(["chat", str(records["ok"]), "--start", "0", "--end", "10", "--model", model,
                           "What is the rhythm?"], capsys)
    assert code == 0 and out.strip() and err == ""
    for flag in (["--drop-unknown"], ["--ecg-only"], ["--leads", "II"]):
        code, out, err = _run(["chat", str(records["art"]), *flag, "--model", model, "--end", "10", "Rhythm?"],
                              capsys)
        assert code == 0 and out.strip(), err
    ecg = write_wfdb(tmp_path, "generic", 30, leads=("ECG",))
    code, out, err = _run(["chat", str(ecg), "--model", model, "--end", "10", "Rhythm?"], capsys)
    assert code == 0 and "note:" in err and "'ECG' assumed to be lead I" in err
    with pytest.raises(SystemExit):
        main(["chat", str(records["ok"]), "--no-such-option", "Rhythm?"])


def test_help_and_a_model_command_print_only_their_answer(records) -> None:
    """The embedded model, in a fresh process as a user runs it: no `Loading weights` bar, no FutureWarning."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    for argv in (["--help"], ["chat", str(records["ok"]), "--start", "0", "--end", "10", "What is the rhythm?"]):
        done = subprocess.run([sys.executable, "-m", "anyecg", *argv], capture_output=True, text=True, env=env,
                              timeout=600)
        assert done.returncode == 0 and done.stdout.strip() and done.stderr == "", done.stderr[-2000:]


def test_chat_windows_one_per_file():
    """`--start 120,140 --end 130,150 FILE FILE`: each file its own window; a count that fits neither is refused."""
    import argparse

    from anyecg.chat_cli import _seconds, _spans
    from anyecg.errors import AnyECGError

    args = argparse.Namespace(files=["a", "a"], start=_seconds("120,140"), end=_seconds("130,150"))
    assert _spans(args) == [(120.0, 130.0), (140.0, 150.0)]
    assert _spans(argparse.Namespace(files=["a", "b"], start=[5.0], end=None)) == [(5.0, None), (5.0, None)]
    with pytest.raises(AnyECGError, match="--start gives 2 values for 3 files"):
        _spans(argparse.Namespace(files=["a", "b", "c"], start=[1.0, 2.0], end=None))
    with pytest.raises(argparse.ArgumentTypeError, match="not seconds"):
        _seconds("1,x")
