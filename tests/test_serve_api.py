"""The HTTP API in-process (FastAPI TestClient) on a tiny random model: plumbing, not answer quality."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from anyecg.chat import ECGChat
from anyecg.cli import build_parser
from anyecg.serve.app import ECGServer
from anyecg.serve.settings import ServeSettings
from anyecg.testing.server import ecg_part, tiny_checkpoint, write_wfdb


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> ECGChat:
    return ECGChat.load(tiny_checkpoint(tmp_path_factory.mktemp("ckpt")), max_new_tokens=6)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ecg")
    return {"a": write_wfdb(folder, "a", 12), "b": write_wfdb(folder, "b", 20, fs=360),
            "c": write_wfdb(folder, "c", 10, 500, ("I", "II", "V1")), "long": write_wfdb(folder, "long", 150),
            "longer": write_wfdb(folder, "longer", 1200, fs=100)}


@pytest.fixture
def server(chat: ECGChat) -> ECGServer:
    return ECGServer(chat, ServeSettings(max_tokens=6, max_upload_mb=1, timeout_s=60))


@pytest.fixture
def client(server: ECGServer):
    with TestClient(server.app()) as c:
        yield c


def _files(record: Path) -> list[tuple[str, tuple[str, bytes]]]:
    return [("file", (p.name, p.read_bytes())) for p in (record.with_suffix(".hea"), record.with_suffix(".dat"))]


def _ask(*parts: dict, text: str = "Locate the abnormal beats.") -> dict:
    return {"model": "anyecg", "messages": [{"role": "user", "content": [*parts, {"type": "text", "text": text}]}]}


def test_models_health_openapi_page(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/v1/models").json()["data"][0]["id"] == "anyecg"
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/chat/completions", "/v1/files", "/v1/ecg/scan", "/v1/ecg/scan/{job_id}"} <= set(paths)
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text and "http" not in page.text.split("<body>")[1]
    assert client.get("/static/app.js").status_code == 200


def test_chat_one_ecg_in_the_evaluation_format(client: TestClient, records: dict[str, Path]) -> None:
    resp = client.post("/v1/chat/completions", json=_ask(ecg_part(records["a"], start_s=1.0, end_s=11.0)))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] in ("stop", "length")
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant" and isinstance(message["content"], str)


def test_chat_three_ecgs_three_ways_and_a_second_turn(client: TestClient, records: dict[str, Path]) -> None:
    file_id = client.post("/v1/files", files=_files(records["b"])).json()["id"]
    hea, dat = (records["c"].with_suffix(s) for s in (".hea", ".dat"))
    named = {"type": "ecg_file", "ecg_file": {"format": "wfdb", "files": [
        {"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()} for p in (hea, dat)],
        "mask_leads": ["V1"]}}
    parts = [ecg_part(records["a"]), {"type": "ecg_file", "ecg_file": {"file_id": file_id, "leads": ["II"]}}, named]
    first = client.post("/v1/chat/completions", json=_ask(*parts, text="How do these ECGs differ?"))
    assert first.status_code == 200, first.text
    answer = first.json()["choices"][0]["message"]
    assert "localization" not in answer  # several ECGs: no interval mapping
    body = _ask(*parts, text="How do these ECGs differ?")
    body["messages"] += [{"role": "assistant", "content": answer["content"]},
                         {"role": "user", "content": "And the heart rate?"}]
    body["messages"].insert(0, {"role": "system", "content": "Answer briefly."})
    second = client.post("/v1/chat/completions", json=body)
    assert second.status_code == 200, second.text


def test_stream_is_openai_sse(client: TestClient, records: dict[str, Path]) -> None:
    body = {**_ask(ecg_part(records["a"])), "stream": True}
    with client.stream("POST", "/v1/chat/completions", json=body) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        events = [line[6:] for line in resp.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")


def test_auth_on(chat: ECGChat) -> None:
    with TestClient(ECGServer(chat, ServeSettings(api_key="s3cret", max_tokens=4)).app()) as c:
        assert c.get("/v1/models").status_code == 401
        wrong = c.get("/v1/models", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        assert c.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/health").status_code == 200 and c.get("/").status_code == 200


def _zip(members: dict[str, bytes]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("case, status, words", [
    ("bad base64", 400, "base64"), ("unknown format hint", 415, "unknown ECG format"),
    ("not an ECG", 415, "not an ECG file"), ("broken WFDB", 422, "ecg 1"), ("malformed JSON", 400, "JSON"),
    ("oversized body", 413, "larger than"), ("oversized zip", 413, "unpacks to more"),
    ("last turn not user", 400, "last message"), ("window outside", 422, "outside"),
    ("unknown file id", 404, "no file"), ("two sources", 400, "exactly one"), ("image part", 422, "type"),
])
def test_bad_requests_name_the_problem(client: TestClient, records: dict[str, Path], case: str, status: int,
                                       words: str) -> None:
    part = ecg_part(records["a"])
    body = _ask(part)
    if case == "bad base64":
        part["ecg_file"]["data"] = "not base64 !!"
    elif case == "unknown format hint":
        part["ecg_file"]["format"] = "dicom-waveform"
    elif case == "not an ECG":
        part["ecg_file"] = {"data": base64.b64encode(b"hello world, no ECG here\x00\x01").decode(), "name": "x.bin"}
    elif case == "broken WFDB":
        part["ecg_file"]["data"] = _zip({"a.hea": b"a 2 250 3000\na.dat 16 200 16 0 0 0 0 MLII\n"})
    elif case == "oversized body":
        part["ecg_file"]["data"] = base64.b64encode(b"0" * (3 << 20)).decode()
    elif case == "oversized zip":
        part["ecg_file"]["data"] = _zip({"a.csv": b"0" * (2 << 20)})
    elif case == "last turn not user":
        body["messages"].append({"role": "assistant", "content": "ok"})
    elif case == "window outside":
        part["ecg_file"].update(start_s=50.0, end_s=60.0)
    elif case == "unknown file id":
        part["ecg_file"] = {"file_id": "file-doesnotexist"}
    elif case == "two sources":
        part["ecg_file"]["file_id"] = "file-x"
    elif case == "image part":
        body["messages"][0]["content"][0] = {"type": "image_url", "image_url": {"url": "x"}}
    if case == "malformed JSON":
        resp = client.post("/v1/chat/completions", content=b'{"messages": [', headers={"content-type":
                                                                                         "application/json"})
    else:
        resp = client.post("/v1/chat/completions", json=body)
    assert resp.status_code == status, resp.text
    assert words.lower() in resp.json()["error"]["message"].lower()


def test_files_api_signal_plot_localization(client: TestClient, server: ECGServer, records: dict[str, Path]) -> None:
    entry = client.post("/v1/files", files=_files(records["a"])).json()
    assert entry["ecg"]["leads"] == ["II", "V1"] and entry["ecg"]["duration_s"] == 12.0
    assert [f["id"] for f in client.get("/v1/files").json()["data"]] == [entry["id"]]
    sig = client.get(f"/v1/files/{entry['id']}/signal", params={"start_s": 2, "end_s": 7, "points": 300}).json()
    assert sig["leads"] == ["II", "V1"] and len(sig["values"][0]) <= 300 and sig["start_s"] == 2
    png = client.get(f"/v1/files/{entry['id']}/plot.png", params={"end_s": 10, "highlight": "1.9-3.1"})
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    loc = client.post("/v1/ecg/localization", json={"text": "Duration: 1.9s-3.1s, 6.8s-8.1s",
                                                    "ecg": {"file_id": entry["id"], "start_s": 1, "end_s": 11}})
    assert loc.status_code == 200, loc.text
    first = loc.json()["intervals"][0]
    assert (first["start_s"], first["abs_start_s"], first["clock_start"]) == (1.9, 2.9, "08:30:02.9")
    assert client.post("/v1/ecg/localization", json={"text": "beats at the start",
                                                     "ecg": {"file_id": entry["id"]}}).status_code == 422
    big = [("file", ("big.csv", b"0" * (2 << 20)))]
    assert client.post("/v1/files", files=big).status_code == 413
    assert client.delete(f"/v1/files/{entry['id']}").json()["deleted"] is True
    assert client.get(f"/v1/files/{entry['id']}").status_code == 404
    assert not any(server.store.root.iterdir())  # request folders and the deleted file are gone


def test_client_names_never_become_server_paths(client: TestClient, server: ECGServer,
                                                records: dict[str, Path]) -> None:
    hea = records["a"].with_suffix(".hea").read_bytes()
    dat = records["a"].with_suffix(".dat").read_bytes()
    part = {"type": "ecg_file", "ecg_file": {"data": _zip({"../../evil/a.hea": hea, "/abs/a.dat": dat})}}
    assert client.post("/v1/chat/completions", json=_ask(part)).status_code == 200
    files = [("file", ("../../../tmp/a.hea", hea)), ("file", ("..\\a.dat", dat))]
    entry = client.post("/v1/files", files=files).json()
    assert entry["filename"] == "a.hea"
    assert client.get("/v1/files/..%2F..%2Fetc%2Fpasswd").status_code == 404
    inside = [p for p in server.store.root.rglob("*") if p.is_file()]
    assert inside and all(p.parent.parent == server.store.root for p in inside)


def test_scan_default_engine_is_the_machine_read(client: TestClient, records: dict[str, Path]) -> None:
    file_id = client.post("/v1/files", files=_files(records["long"])).json()["id"]
    job = client.post("/v1/ecg/scan", json={"ecg": {"file_id": file_id}, "targets": ["V", "A"]}).json()
    for _ in range(300):
        job = client.get(f"/v1/ecg/scan/{job['id']}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.1)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["engine"] == "findings" and result["questions"] == 0 and result["n_beats"] > 100
    assert [r["target"] for r in result["summary"]][:2] == ["V", "A"]


def test_scan_job_lifecycle(client: TestClient, records: dict[str, Path]) -> None:
    file_id = client.post("/v1/files", files=_files(records["long"])).json()["id"]
    started = client.post("/v1/ecg/scan", json={"ecg": {"file_id": file_id}, "window_s": 10, "targets": ["V", "A"],
                                                       "engine": "llm"})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    seen = []
    for _ in range(600):
        job = client.get(f"/v1/ecg/scan/{job_id}").json()
        seen.append(job["progress"]["fraction"])
        if job["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.1)
    assert job["status"] == "succeeded", job
    assert seen == sorted(seen) and seen[-1] == 1.0
    result = job["result"]
    assert result["windows"] == 15 and [r["target"] for r in result["summary"]][:2] == ["V", "A"]  # then episodes
    assert all(0 <= e["start_s"] < e["end_s"] <= 150 for e in result["episodes"])
    assert client.get(result["plot_url"]).content[:4] == b"\x89PNG"

    long_id = client.post("/v1/files", files=_files(records["longer"])).json()["id"]
    job_id = client.post("/v1/ecg/scan", json={"ecg": {"file_id": long_id}, "window_s": 10, "engine": "llm"}).json()["id"]
    assert client.delete(f"/v1/ecg/scan/{job_id}").status_code == 200
    for _ in range(300):
        job = client.get(f"/v1/ecg/scan/{job_id}").json()
        if job["status"] in ("cancelled", "succeeded", "failed"):
            break
        time.sleep(0.1)
    assert job["status"] == "cancelled" and job["progress"]["windows_done"] < 120
    assert client.get(f"/v1/ecg/scan/{job_id}/plot.png").status_code == 409
    assert client.get("/v1/ecg/scan/scan-nope").status_code == 404
    bad = client.post("/v1/ecg/scan", json={"ecg": {"file_id": file_id}, "targets": ["banana"]})
    assert client.post("/v1/ecg/scan", json={"ecg": {"file_id": file_id}, "engine": "fast"}).status_code == 422
    assert bad.status_code == 400 and "banana" in bad.json()["error"]["message"]


def test_serve_command_line() -> None:
    args = build_parser().parse_args(["serve", "--model", "ck", "--api-key", "k", "--concurrency", "1",
                                      "--queue", "0", "--timeout", "5", "--max-upload-mb", "2"])
    assert (args.host, args.port, args.api_key, args.queue) == ("127.0.0.1", 8000, "k", 0)
    with pytest.raises(ValueError, match="concurrency"):
        ServeSettings(concurrency=0)
