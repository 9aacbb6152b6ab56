"""ECGChat API, scan and the chat/report/locate/scan CLI, on a tiny random model (code paths, not quality)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import wfdb
import yaml
from safetensors.torch import save_file

from anyecg.chat import ECG, ECGChat, Prepared, prepare
from anyecg.chat_cli import split_question
from anyecg.cli import main
from anyecg.errors import AnyECGError, LeadError, WindowError
from anyecg.model.anyecg_chat import AnyECGChatModel
from anyecg.model.config import ModelConfig
from anyecg.scan import scan
from anyecg.targets import resolve_target


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint directory as `anyecg train` writes it, with a tiny random LLM."""
    cfg = ModelConfig(llm="tiny")
    model = AnyECGChatModel.from_config(cfg)
    out = tmp_path_factory.mktemp("ckpt")
    save_file(model.trainable_state_dict(), str(out / "model.safetensors"))
    (out / "config.yaml").write_text(yaml.safe_dump({"model": cfg.to_dict()}))
    return out


@pytest.fixture(scope="module")
def chat(tiny_ckpt: Path) -> ECGChat:
    return ECGChat.load(tiny_ckpt, max_new_tokens=6)


def _record(folder: Path, name: str, seconds: float, fs: int = 250, leads: tuple[str, ...] = ("MLII", "V1")) -> Path:
    t = np.arange(int(seconds * fs)) / fs
    sig = np.stack([np.sin(2 * np.pi * 1.2 * t + k) + 0.05 * np.random.default_rng(k).normal(size=t.size)
                    for k in range(len(leads))], axis=1)
    wfdb.wrsamp(name, fs=fs, units=["mV"] * len(leads), sig_name=list(leads), p_signal=sig, fmt=["16"] * len(leads),
                write_dir=str(folder), base_time=dt.time(8, 30, 0), base_date=dt.date(2024, 1, 2))
    return folder / name


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ecg")
    return {"short": _record(folder, "short", 12), "long": _record(folder, "long", 150),
            "half": _record(folder, "half", 0.5), "twelve": _record(folder, "twelve", 10, 500,
                                                                    ("I", "II", "III", "aVR", "aVL", "aVF",
                                                                     "V1", "V2", "V3", "V4", "V5", "V6"))}


def test_ask_report_locate(chat: ECGChat, records: dict[str, Path]) -> None:
    answer = chat.ask(records["short"], "What is the rhythm?")
    assert isinstance(answer.text, str) and answer.n_ecgs == 1
    assert chat.report(records["twelve"]).question.startswith("Please provide the report")
    loc = chat.locate(records["long"], "PVC", start_s=20, end_s=80)
    assert loc.target.key == "V" and isinstance(loc.valid, bool)
    for f in loc.findings:
        assert 0 <= f.start_s < f.end_s <= 60 and f.abs_start_s == pytest.approx(20 + f.start_s)


def test_report_decodes_with_the_report_sampling(chat: ECGChat, records: dict[str, Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from anyecg.prompts import REPORT_SAMPLING

    seen: list[dict] = []
    monkeypatch.setattr(chat.model, "generate", lambda batch, **kw: seen.append(kw) or batch["input_ids"][:, :0])
    chat.report(records["short"])
    chat.report_batch([records["short"]])
    greedy = [kw for kw in seen if "num_beams" not in kw]  # (an empty report leaves out the read: beams follow)
    assert len(greedy) == 2 and all(kw[k] == v for kw in seen for k, v in REPORT_SAMPLING.items())


def test_locate_per_clip_merges_clip_answers_in_window_time(chat: ECGChat, records: dict[str, Path],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A 25 s window is asked as clips of 10, 10 and 5 s; their answers are shifted and merged (a finding that
    crosses a clip boundary becomes one interval). A patch-mode model (this one) is asked the whole window by
    default: its encoder reads long windows as clips itself."""
    asked: list[tuple[float, float]] = []
    canned = {0.0: "Duration: 1.0s-2.0s, 9.5s-10.0s", 10.0: "Duration: 0.0s-0.4s", 20.0: "No Premature ventricular "
              "contraction Found"}

    def fake(items, streamer=None, **sampling):
        out = []
        for prepared, _ in items:
            x = prepared[0].input
            asked.append((x.start_s, x.duration_s))
            out.append(canned.get(round(x.start_s - 30.0, 1), "Duration: 3.0s-4.0s"))
        return out

    monkeypatch.setattr(chat, "answer", fake)
    monkeypatch.setattr(chat, "verify", False)  # the canned answers stand (verification: test_answer_checks.py)
    loc = chat.locate(records["long"], "V", start_s=30, end_s=55, prescreen=False, per_clip=True)
    assert [(round(a, 3), round(d, 3)) for a, d in asked] == [(30.0, 10.0), (40.0, 10.0), (50.0, 5.0)]
    assert loc.text == "Duration: 1.0s-2.0s, 9.5s-10.4s" and loc.valid
    assert [(f.abs_start_s, f.abs_end_s) for f in loc.findings] == [(31.0, 32.0), (39.5, 40.4)]
    asked.clear()
    whole = chat.locate(records["long"], "V", start_s=30, end_s=55, prescreen=False)  # patch model: whole window
    assert asked == [(30.0, 25.0)] and whole.text == "Duration: 1.0s-2.0s, 9.5s-10.0s"


def test_batched_answers_match_one_by_one(chat: ECGChat, records: dict[str, Path]) -> None:
    items = [([prepare(ECG(records["short"]))], "Rhythm?"), ([prepare(ECG(records["long"], 0, 37))], "Rate?"),
             ([prepare(records["twelve"]), prepare(ECG(records["short"], 1, 11))], "Compare them.")]
    batched = chat.ask_prepared(items)
    single = [chat.ask_prepared([item])[0] for item in items]
    assert batched == single


def test_conversation_keeps_history_and_streams(chat: ECGChat, records: dict[str, Path]) -> None:
    conv = chat.conversation([records["twelve"], ECG(records["long"], 0, 10)])
    first = conv.ask("What changed between these ECGs?")
    streamed = "".join(conv.stream("And the heart rate?"))
    assert len(conv.history) == 4
    assert conv.history[0]["content"].count("<ecg>") == 2 and "<ecg>" not in conv.history[2]["content"]
    assert conv.history[1]["content"] == first.text and conv.history[3]["content"] == streamed.strip()


def test_localization_text_to_findings_on_the_clock(records: dict[str, Path]) -> None:
    from anyecg.chat import ECGChat as C

    prepared = prepare(ECG(records["long"], 30, 90))
    with_clock = Prepared(prepared.input, dt.datetime(2024, 1, 2, 8, 30, 0))
    loc = C.localization(with_clock, resolve_target("V"), "Duration: 1.9s-3.1s, 6.8s-8.1s")
    assert loc.valid and loc.intervals == [(1.9, 3.1), (6.8, 8.1)]
    assert loc.findings[0].abs_start_s == pytest.approx(31.9) and loc.findings[0].clock_start == "08:30:31.9"
    neg = C.localization(prepared, resolve_target("V"), "No Premature ventricular contraction Found")
    assert neg.valid and neg.findings == []
    bad = C.localization(prepared, resolve_target("V"), "the beats are at the start")
    assert not bad.valid


@pytest.mark.parametrize("case", ["empty question", "seven ECGs", "half-second ECG", "no lead left", "bad target"])
def test_bad_input_raises_one_clear_error(chat: ECGChat, records: dict[str, Path], case: str) -> None:
    with pytest.raises(AnyECGError) as err:
        if case == "empty question":
            chat.ask(records["short"], "   ")
        elif case == "seven ECGs":
            chat.ask([records["short"]] * 7, "Compare.")
        elif case == "half-second ECG":
            chat.ask(records["half"], "Rhythm?")
        elif case == "no lead left":
            chat.ask(ECG(records["short"], leads=("V5",)), "Rhythm?")
        else:
            chat.locate(records["short"], "banana")
    assert "\n" not in str(err.value)
    if case == "half-second ECG":
        assert isinstance(err.value, WindowError) and "half" in str(err.value)
    if case == "no lead left":
        assert isinstance(err.value, LeadError)


def test_scan_merges_in_absolute_time(chat: ECGChat, records: dict[str, Path], tmp_path: Path) -> None:
    result = scan(chat, records["long"], targets=["V", "A"], engine="llm", window_s=60, overlap_s=10, batch_size=4,
                  progress=False)
    assert result.n_windows == 3 and result.n_questions + result.n_prescreened == 6  # 2 targets x 3 windows
    assert result.findings is not None and result.findings.n_beats > 100
    unscreened = scan(chat, records["long"], targets=["V"], engine="llm", window_s=60, overlap_s=10, progress=False,
                      prescreen=False)
    assert unscreened.n_questions == 3 and unscreened.n_prescreened == 0
    assert result.start_time is not None and result.start_time.time() == dt.time(8, 30)
    for e in result.episodes:
        assert 0 <= e.start_s < e.end_s <= result.duration_s + 1e-6
    for row in result.summary():
        assert 0 <= row["burden_pct"] <= 100
    result.write_json(tmp_path / "s.json")
    result.write_csv(tmp_path / "s.csv")
    result.write_png(tmp_path / "s.png")
    result.write_html(tmp_path / "s.html")
    assert json.loads((tmp_path / "s.json").read_text())["windows"] == 3
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "s.csv").read_text().startswith("target,description,start_s")


def test_cli_commands(tiny_ckpt: Path, records: dict[str, Path], tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    model = ["--model", str(tiny_ckpt), "--max-new-tokens", "4"]
    assert main(["chat", *model, "--json", str(records["short"]), "Is it regular?"]) == 0
    assert json.loads(capsys.readouterr().out)["question"] == "Is it regular?"
    assert main(["locate", *model, "--json", "--what", "V", "--start", "0", "--end", "10",
                 str(records["short"])]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == "V"
    assert main(["report", *model, str(records["twelve"])]) == 0
    capsys.readouterr()
    assert main(["scan", *model, "--what", "V", "--window", "60", "--out", str(tmp_path),
                 str(records["long"])]) == 0
    assert (tmp_path / "long.scan.html").exists()
    capsys.readouterr()
    assert main(["scan", *model, "--json", "--no-prescreen", "--what", "V", str(records["long"])]) == 0
    assert json.loads(capsys.readouterr().out)["prescreened"] == 0


@pytest.mark.parametrize("argv, needle", [
    (["chat", "{short}", ""], "question is empty"),
    (["chat", "{half}", "Rhythm?"], "at least 1 s"),
    (["locate", "--what", "banana", "{short}"], "cannot locate"),
    (["chat", "{missing}", "Rhythm?"], "missing"),
    (["scan", "--window", "5", "{long}"], "--window"),
    (["locate", "--device", "tpu", "{short}", "--what", "V"], "device"),
])
def test_cli_errors_one_line_exit_2(tiny_ckpt: Path, records: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                    argv: list[str], needle: str) -> None:
    paths = {k: str(v) for k, v in records.items()} | {"missing": str(records["short"].parent / "missing.hea")}
    argv = [a.format(**paths) for a in argv]
    code = main([argv[0], "--model", str(tiny_ckpt), *argv[1:]])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and err.startswith("anyecg: error:") and needle in err


def test_question_split() -> None:
    assert split_question(["a_file_that_does_not_exist", "What?"]) == (["a_file_that_does_not_exist"], "What?")
    with pytest.raises(AnyECGError):
        split_question(["Where are the PVCs?"])


def test_locate_from_the_machine_read_needs_no_model(shared_data: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`locate --engine findings`: the read of the window in its recording localizes; no checkpoint is loaded."""
    import anyecg.chat_cli as chat_cli

    monkeypatch.setattr(chat_cli, "_load", lambda args: pytest.fail("--engine findings loaded a model"))
    record = shared_data / "mitdb" / "233"  # DS2: frequent PVCs
    assert main(["locate", "--engine", "findings", "--json", "--what", "PVC", "--start", "100", "--end", "110",
                 str(record)]) == 0
    out = json.loads(capsys.readouterr().out)
    ann = wfdb.rdann(str(record), "atr", sampfrom=100 * 360, sampto=110 * 360)
    pvcs = [s / 360 - 100 for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym == "V"]
    assert pvcs and out["target"] == "V" and out["intervals"]
    assert all(any(i["start_s"] <= t <= i["end_s"] for i in out["intervals"]) for t in pvcs)
    assert main(["locate", "--engine", "findings", "--what", "AFIB", "--start", "60", "--end", "70",
                 str(shared_data / "mitdb" / "201")]) == 0
    assert capsys.readouterr().out.startswith("Duration: 0.0s-10.0s")  # 201 is in AF there
