"""Checked answers and one answer whatever the door (issue 14 items 4 and 5).

The LLM's words are replaced by a deliberately wrong canned answer (`CannedChat.answer`, and the same words for
every beam-search alternative that verified decoding looks at); everything around them is real: the machine read of
the ECG, the checks, verified decoding, the CLI, the HTTP API and the web page in headless Chromium.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from anyecg.chat import ECG, ECGChat, prepare, read_answer
from anyecg.cli import main
from anyecg.glossary import GLOSSARY
from anyecg.serve.app import ECGServer
from anyecg.serve.settings import ServeSettings
from anyecg.targets import resolve_target
from anyecg.testing.server import ecg_part, free_port, tiny_checkpoint

WRONG = "Atrial fibrillation. The heart rate is 150 bpm."
RATE_QUESTION = "What is the heart rate?"
LOCATE = "Locate the premature ventricular contractions."


class CannedChat(ECGChat):
    """ECGChat whose LLM always says `WRONG` (the record is sinus rhythm at 74 bpm)."""

    def answer(self, items, streamer=None, **sampling):
        if streamer is not None:  # as generate streams: the prompt first (skipped by the streamer), then the answer
            ids = self.processor.tokenizer(WRONG, return_tensors="pt")["input_ids"]
            streamer.put(ids[:, :1])
            streamer.put(ids)
            streamer.end()
        return [WRONG] * len(items)

    def alternatives(self, prepared, conversation, prefix="", **sampling):
        return [WRONG]


class VerifyingChat(CannedChat):
    """CannedChat whose beam search also finds answers that agree with the read (sinus rhythm, 74 bpm)."""

    def alternatives(self, prepared, conversation, prefix="", **sampling):
        return ["No, atrial fibrillation.",  # contradicts itself: never picked
                "Atrial fibrillation. The heart rate is 74 bpm.",  # AF contradicted by the read
                RIGHT, "Sinus rhythm."]


RIGHT = "The heart rate is 74 bpm."
AGAIN = "What is the heart rate again?"


BLOCK_QUESTION = "Is there a bundle branch block?"
BLOCK_WRONG = "Yes, left bundle branch block."  # the record's QRS is narrow; the read has no sentence of its own


class PageChat(CannedChat):
    """CannedChat that says `BLOCK_WRONG` to `BLOCK_QUESTION`; its beam search finds an answer that agrees only when
    the question says `AGAIN`."""

    def answer(self, items, streamer=None, **sampling):
        if items[0][1][-1]["content"].endswith(BLOCK_QUESTION):
            return [BLOCK_WRONG] * len(items)
        return super().answer(items, streamer, **sampling)

    def alternatives(self, prepared, conversation, prefix="", **sampling):
        return [RIGHT] if conversation[-1]["content"].endswith(AGAIN) else [WRONG]


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt"))


@pytest.fixture(scope="module")
def record(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 12 s of MIT-BIH 100 (sinus rhythm, 74 bpm by the machine read) as its own WFDB record."""
    import wfdb

    from anyecg.io import read_record

    rec = read_record(shared_data / "mitdb" / "100", end_s=12.0, annotations=False)
    folder = tmp_path_factory.mktemp("ecg")
    wfdb.wrsamp("mitdb100", fs=rec.fs, units=["mV"] * 2, sig_name=["MLII", "V5"], p_signal=rec.signal.T,
                fmt=["16"] * 2, write_dir=str(folder))
    return folder / "mitdb100"


@pytest.fixture(scope="module")
def canned(ckpt: Path) -> CannedChat:
    """Unverified: the wrong answer is given as it is, with its flags (verified, the read's words replace it)."""
    return CannedChat.load(ckpt, max_new_tokens=8, verify=False)


def _flag_lines(checks: list[dict]) -> list[str]:
    return [c["stated"] for c in checks if not c["agrees"]]


def test_python_api_flags_the_wrong_claims(canned: CannedChat, record: Path) -> None:
    answer = canned.ask(record, RATE_QUESTION)
    assert answer.text == WRONG
    flagged = {c.kind: c for c in answer.flagged}
    assert flagged["heart_rate"].stated == "150 bpm" and flagged["heart_rate"].measured == "74 bpm"
    assert flagged["statement"].stated == "Atrial fibrillation"
    assert answer.to_dict()["checks"]


def test_cli_warns_on_stderr_and_lists_checks_in_json(ckpt: Path, record: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(ECGChat, "answer", CannedChat.answer)
    monkeypatch.setattr(ECGChat, "alternatives", CannedChat.alternatives)
    assert main(["chat", "--model", str(ckpt), "--no-verify", str(record), RATE_QUESTION]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == WRONG
    assert "anyecg: warning: answer says 150 bpm; the signal reads 74 bpm" in err
    assert main(["chat", "--model", str(ckpt), "--no-verify", "--json", str(record), RATE_QUESTION]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(_flag_lines(data["checks"])) == {"150 bpm", "Atrial fibrillation"}


def test_http_api_returns_message_checks(canned: CannedChat, record: Path) -> None:
    server = ECGServer(canned, ServeSettings(max_tokens=8, timeout_s=60))
    with TestClient(server.app()) as client:
        body = {"model": "anyecg", "messages": [{"role": "user", "content": [
            ecg_part(record), {"type": "text", "text": RATE_QUESTION}]}]}
        message = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]
        assert message["content"] == WRONG
        assert set(_flag_lines(message["checks"])) == {"150 bpm", "Atrial fibrillation"}
        lines = client.post("/v1/chat/completions", json={**body, "stream": True}).text.splitlines()
        last = json.loads([x for x in lines if x.startswith("data: {")][-1][6:])["choices"][0]
        assert set(_flag_lines(last["checks"])) == {"150 bpm", "Atrial fibrillation"}


def test_verified_decoding_picks_the_models_alternative_that_agrees_at_every_door(
        ckpt: Path, record: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    chat = VerifyingChat.load(ckpt, max_new_tokens=8)
    answer = chat.ask(record, RATE_QUESTION)
    assert (answer.text, answer.replaced, answer.flagged) == (RIGHT, WRONG, [])
    assert answer.to_dict()["replaced"] == WRONG
    assert chat.conversation(record).ask(RATE_QUESTION).text == RIGHT
    assert "".join(chat.stream(record, RATE_QUESTION)) == RIGHT
    server = ECGServer(chat, ServeSettings(max_tokens=8, timeout_s=60))
    with TestClient(server.app()) as client:
        body = {"model": "anyecg", "messages": [{"role": "user", "content": [
            ecg_part(record), {"type": "text", "text": RATE_QUESTION}]}]}
        message = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]
        assert (message["content"], message["replaced"]) == (RIGHT, WRONG)
        lines = client.post("/v1/chat/completions", json={**body, "stream": True}).text.splitlines()
        chunks = [json.loads(x[6:])["choices"][0] for x in lines if x.startswith("data: {")]
        assert "".join(c["delta"].get("content", "") for c in chunks) == RIGHT
        assert chunks[-1]["replaced"] == WRONG
    for name in ("answer", "alternatives"):
        monkeypatch.setattr(ECGChat, name, getattr(VerifyingChat, name))
    assert main(["chat", "--model", str(ckpt), "--json", str(record), RATE_QUESTION]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["text"], data["replaced"]) == (RIGHT, WRONG)
    assert main(["chat", "--model", str(ckpt), "--no-verify", str(record), RATE_QUESTION]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == WRONG and "the signal reads 74 bpm" in err


class FlipChat(CannedChat):
    """Says "Yes, atrial fibrillation." (the record is sinus rhythm); only answers that begin "No" agree."""

    def answer(self, items, streamer=None, **sampling):
        return ["Yes, atrial fibrillation."] * len(items)

    def alternatives(self, prepared, conversation, prefix="", **sampling):
        return ["No atrial fibrillation."] if prefix == "No" else ["Yes, atrial fibrillation.", "Yes."]


def test_a_yes_no_answer_is_also_searched_with_the_other_first_word(ckpt: Path, record: Path) -> None:
    answer = FlipChat.load(ckpt, max_new_tokens=8).ask(record, "Is there atrial fibrillation?")
    assert (answer.text, answer.replaced, answer.flagged) == ("No atrial fibrillation.", "Yes, atrial fibrillation.", [])


class EchoChat(CannedChat):
    """CannedChat whose beam search gives back the words it is given: agrees only when the read leads."""

    def alternatives(self, prepared, conversation, prefix="", **sampling):
        return [prefix if prefix else WRONG]


def test_where_no_alternative_of_the_model_agrees_the_read_leads(ckpt: Path, record: Path) -> None:
    answer = EchoChat.load(ckpt, max_new_tokens=8).ask(record, RATE_QUESTION)
    assert (answer.text, answer.replaced, answer.flagged) == (RIGHT, WRONG, [])


def test_where_the_model_never_agrees_the_reads_own_sentence_is_given(ckpt: Path, record: Path) -> None:
    answer = CannedChat.load(ckpt, max_new_tokens=8).ask(record, RATE_QUESTION)
    assert (answer.text, answer.replaced, answer.flagged) == (RIGHT, WRONG, [])


def test_a_claim_the_read_has_no_words_for_stays_flagged(ckpt: Path, record: Path) -> None:
    answer = PageChat.load(ckpt, max_new_tokens=8).ask(record, BLOCK_QUESTION)
    assert (answer.text, answer.replaced) == (BLOCK_WRONG, None)
    assert [c.stated for c in answer.flagged] == ["Left bundle branch block"]


def test_a_textbook_question_about_an_ecg_term_is_answered_from_the_glossary_unchecked(ckpt: Path,
                                                                                       record: Path) -> None:
    answer = VerifyingChat.load(ckpt, max_new_tokens=8).ask(record, "What is a normal heart rate?")
    assert (answer.text, answer.replaced, answer.checks) == (GLOSSARY["Heart rate"].text, None, [])


def test_a_question_that_asks_nothing_of_the_ecg_goes_to_the_base_llm_alone(ckpt: Path, record: Path) -> None:
    chat = VerifyingChat.load(ckpt, max_new_tokens=8)
    question = "How many hours are there in a day?"
    answer = chat.conversation(record).ask(question)
    assert (answer.text, answer.replaced, answer.checks) == (chat.write_text(question, max_new_tokens=8), None, [])
    assert answer.text != WRONG  # not the chat model's words


def test_unverified_chat_keeps_the_first_answer(ckpt: Path, record: Path) -> None:
    chat = VerifyingChat.load(ckpt, max_new_tokens=8, verify=False)
    answer = chat.ask(record, RATE_QUESTION)
    assert (answer.text, answer.replaced) == (WRONG, None)
    assert {c.stated for c in answer.flagged} == {"150 bpm", "Atrial fibrillation"}


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def test_web_page_shows_the_flags_and_a_replaced_answer(ckpt: Path, record: Path, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs `pip install playwright`")
    if not Path(CHROMIUM).is_file():
        pytest.skip("needs Debian's chromium (apt-get install -y chromium)")
    import uvicorn

    port = free_port()
    chat = PageChat.load(ckpt, max_new_tokens=8)
    server = uvicorn.Server(uvicorn.Config(ECGServer(chat, ServeSettings(max_tokens=8, timeout_s=60)).app(),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1300, "height": 900})
                page.goto(f"http://127.0.0.1:{port}/")
                page.set_input_files("#file-input", [str(record.with_suffix(s)) for s in (".hea", ".dat")])
                page.wait_for_selector("#ecg-list li", timeout=60_000)
                page.fill("#question", BLOCK_QUESTION)
                page.click("#send")
                page.wait_for_function("document.querySelector('.msg.assistant')?.dataset.flags !== undefined",
                                       timeout=60_000)
                flags = page.locator(".msg.assistant .flag").all_inner_texts()
                page.fill("#question", AGAIN)
                page.click("#send")
                page.wait_for_function("document.querySelectorAll('.msg.assistant')[1]?.dataset.flags !== undefined",
                                       timeout=60_000)
                second = page.locator(".msg.assistant").nth(1)
                second_text, notes = second.inner_text(), second.locator(".replaced").all_inner_texts()
                page.screenshot(path=str(tmp_path / "flags.png"), full_page=True)
            finally:
                browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert any("Left bundle branch block" in f and "QRS" in f for f in flags), flags
    assert second_text.startswith(RIGHT) and len(notes) == 1 and WRONG in notes[0], (second_text, notes)


def test_localization_question_gets_the_same_answer_at_every_door(ckpt: Path, record: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    chat = ECGChat.load(ckpt, max_new_tokens=8)  # the real (tiny, random) model: answers are whatever it says
    ecg = ECG(record, 0.0, 10.0)
    located = chat.locate(ecg, "V").text
    assert chat.ask(ecg, LOCATE).text == located
    assert chat.conversation(ecg).ask(LOCATE).text == located
    assert "".join(chat.stream(ecg, LOCATE)) == located
    assert main(["chat", "--model", str(ckpt), "--max-new-tokens", "8", "--start", "0", "--end", "10",
                 str(record), LOCATE]) == 0
    assert capsys.readouterr().out.strip() == located
    server = ECGServer(chat, ServeSettings(max_tokens=8, timeout_s=60))
    with TestClient(server.app()) as client:
        body = {"model": "anyecg", "messages": [{"role": "user", "content": [
            ecg_part(record, start_s=0, end_s=10), {"type": "text", "text": LOCATE}]}]}
        assert client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]["content"] == located


class MissingPVCChat(ECGChat):
    """Answers every localization "No ... Found"; its beam search, asked to begin "Duration:", finds what the
    machine read finds (MIT-BIH 208's first 10 s hold a PVC)."""

    def answer(self, items, streamer=None, **sampling):
        return ["No Premature ventricular contraction Found"] * len(items)

    def alternatives(self, prepared, conversation, prefix="", **sampling):
        if prefix != "Duration:":
            return ["No Premature ventricular contraction Found", "No PVC Found"]
        return ["Duration: 0.0s-0.4s", read_answer(self.machine_read(prepared[0]), resolve_target("V"))]


def test_a_localization_the_read_contradicts_is_verified_and_unscreened(ckpt: Path, shared_data: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    ecg = ECG(shared_data / "mitdb" / "208", 0.0, 10.0)
    chat = MissingPVCChat.load(ckpt, max_new_tokens=8)
    expected = read_answer(chat.machine_read(prepare(ecg)), resolve_target("V"))
    assert expected.startswith("Duration:")
    loc = chat.locate(ecg, "V")  # the tiny model's beat screen is not trusted where the read finds PVCs
    assert (loc.text, loc.replaced) == (expected, "No Premature ventricular contraction Found")
    assert [c.agrees for c in loc.checks] == [True] and loc.to_dict()["replaced"] == loc.replaced
    assert chat.ask(ecg, LOCATE).replaced == loc.replaced  # one answer whatever the door
    unverified = MissingPVCChat.load(ckpt, max_new_tokens=8, verify=False).locate(ecg, "V", prescreen=False)
    assert (unverified.text, unverified.replaced) == ("No Premature ventricular contraction Found", None)
    assert [c.agrees for c in unverified.checks] == [False]
    garbled = GarbledChat.load(ckpt, max_new_tokens=8).locate(ecg, "V")  # an answer out of format is wrong too
    assert (garbled.text, garbled.replaced) == (expected, "Repositories: 2.1s")


class GarbledChat(MissingPVCChat):
    def answer(self, items, streamer=None, **sampling):
        return ["Repositories: 2.1s"] * len(items)
