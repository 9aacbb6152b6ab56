"""The server under hostile uploads (issue 16): bombs refused before allocation, no 5xx, keep-alive kept, an exact
queue bound. A real `anyecg serve` process where memory and connections matter, the ASGI app in-process elsewhere."""

from __future__ import annotations

import asyncio
import base64
import http.client
import io
import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from anyecg.chat import ECGChat
from anyecg.serve.app import ECGServer
from anyecg.serve.errors import APIError
from anyecg.serve.limiter import Limiter
from anyecg.serve.settings import ServeSettings
from anyecg.testing.server import ServerProcess, tiny_checkpoint, write_wfdb

MB = 1 << 20


def npz_bomb() -> bytes:
    """A ~70 KB .npz whose array header says 12 x 20,000,000 float32 (960 MB), holding 64 MB of zeros."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (12, 20_000_000)})
    fs = io.BytesIO()
    np.save(fs, np.array(500.0))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("signal.npy", "w", force_zip64=True) as f:
            f.write(header.getvalue())
            for _ in range(64):
                f.write(bytes(MB))
        zf.writestr("fs.npy", fs.getvalue())
    return buf.getvalue()


def lying_zip(real_mb: int = 200) -> bytes:
    """A zip of one WFDB .dat of `real_mb` MB of zeros whose headers claim 1 KB (local and central)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.hea", "a 1 250 1000\na.dat 16 200 16 0 0 0 0 II\n")
        with zf.open("a.dat", "w", force_zip64=False) as f:
            for _ in range(real_mb):
                f.write(bytes(MB))
    data = bytearray(buf.getvalue())
    for sig, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size field of each header
        start = 0
        while (i := data.find(sig, start)) >= 0:
            name_len = struct.unpack_from("<H", data, i + (26 if sig == b"PK\x03\x04" else 28))[0]
            name_at = i + (30 if sig == b"PK\x03\x04" else 46)
            if bytes(data[name_at:name_at + name_len]) == b"a.dat":
                struct.pack_into("<I", data, i + size_at, 1024)
            start = i + 4
    return bytes(data)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_checkpoint(tmp_path_factory.mktemp("ckpt"))


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wfdb(tmp_path_factory.mktemp("ecg"), "a", 12)


def test_bombs_refused_before_allocation_and_keep_alive(model: Path, record: Path) -> None:
    """A real server: the NPZ bomb and the lying zip are 413/422, its peak RSS stays within 200 MB of idle,
    and one keep-alive connection carries a good request after each rejected one."""
    # Built first: uvicorn closes a keep-alive connection idle for 5 s.
    payloads = (("bomb.npz", npz_bomb(), (413, 422)), ("lie.zip", lying_zip(), (413, 422)),
                ("a.hea", record.with_suffix(".hea").read_bytes(), (422,)))
    with ServerProcess(model, "--max-upload-mb", "8") as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        conn.connect()

        def upload(name: str, data: bytes) -> http.client.HTTPResponse:
            boundary = "anyecgboundary"
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                    f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
            conn.request("POST", "/v1/files", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
            resp = conn.getresponse()
            resp.read()
            return resp

        def health_on_same_connection() -> None:
            sock = conn.sock
            conn.request("GET", "/health")
            resp = conn.getresponse()
            assert resp.status == 200 and json.loads(resp.read())["status"] == "ok"
            assert conn.sock is sock  # not reconnected: the server kept the connection open

        health_on_same_connection()
        idle = _peak_rss_mb(server.proc.pid)
        good = upload("a.zip", _zip_of(record))
        assert good.status == 200
        for name, data, statuses in payloads:
            resp = upload(name, data)
            assert resp.status in statuses, (name, resp.status)
            assert resp.getheader("connection") != "close"
            health_on_same_connection()
        assert _peak_rss_mb(server.proc.pid) - idle < 200
        conn.close()


def _zip_of(record: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for suffix in (".hea", ".dat"):
            zf.write(record.with_suffix(suffix), record.name + suffix)
    return buf.getvalue()


@pytest.fixture(scope="module")
def client(model: Path):
    chat = ECGChat.load(model, max_new_tokens=4)
    with TestClient(ECGServer(chat, ServeSettings(max_tokens=4, max_upload_mb=2, max_samples=1_000_000)).app(),
                    raise_server_exceptions=False) as c:
        yield c


def _chat_body(ecg_file: dict) -> dict:
    return {"messages": [{"role": "user", "content": [{"type": "ecg_file", "ecg_file": ecg_file},
                                                      {"type": "text", "text": "Rhythm?"}]}]}


def test_wfdb_header_without_its_signal_file_refused_at_upload(client: TestClient, record: Path) -> None:
    resp = client.post("/v1/files", files=[("file", ("a.hea", record.with_suffix(".hea").read_bytes()))])
    assert resp.status_code == 422 and "a.dat" in resp.json()["error"]["message"]


@pytest.mark.parametrize("data", ["QUJD====", "QUJD=", "QUI==", "QU=JD"])
def test_base64_with_wrong_padding_is_400(client: TestClient, data: str) -> None:
    resp = client.post("/v1/chat/completions", json=_chat_body({"data": data, "format": "csv"}))
    assert resp.status_code == 400 and "base64" in resp.json()["error"]["message"]


def test_sample_count_bound_from_headers(client: TestClient, tmp_path: Path) -> None:
    np.save(tmp_path / "big.npy", np.zeros((2, 600_000), np.int8))  # 1.2 M samples > 1 M, in 1.2 MB
    data = base64.b64encode((tmp_path / "big.npy").read_bytes()).decode()
    resp = client.post("/v1/chat/completions", json=_chat_body({"data": data, "format": "npy", "fs": 500}))
    assert resp.status_code == 413 and "at most 1000000 samples" in resp.json()["error"]["message"]


def test_queue_bound_is_exact() -> None:
    """concurrency 1, queue 3: one holder, three waiters, then 429 — also when a newcomer arrives between a
    release and the woken waiter running (where a fourth used to slip into the queue)."""

    async def scenario() -> None:
        limiter = Limiter(1, 3)
        await limiter.acquire(1.0)
        waiters = [asyncio.ensure_future(limiter.acquire(5.0)) for _ in range(3)]
        await asyncio.sleep(0)
        assert (limiter.active, limiter.waiting) == (1, 3)
        with pytest.raises(APIError) as err:
            await limiter.acquire(5.0)
        assert err.value.status == 429
        limiter.release(0.1)  # the slot passes to the oldest waiter
        newcomer = asyncio.ensure_future(limiter.acquire(5.0))
        await asyncio.sleep(0)
        assert (limiter.active, limiter.waiting) == (1, 3)
        await asyncio.wait_for(waiters[0], 1.0)  # the oldest waiter got the slot
        assert not newcomer.done() and (limiter.active, limiter.waiting) == (1, 3)
        with pytest.raises(APIError) as err:
            await limiter.acquire(5.0)
        assert err.value.status == 429
        limiter.release(0.1)
        await asyncio.sleep(0)
        with pytest.raises(APIError) as err:  # a wait that times out leaves the queue
            await limiter.acquire(0.01)
        assert err.value.status == 503 and limiter.waiting == 2
        for task in (*waiters, newcomer):
            task.cancel()
        await asyncio.gather(*waiters, newcomer, return_exceptions=True)

    asyncio.run(scenario())


def test_upload_says_what_the_reader_assumed(client: TestClient, tmp_path: Path) -> None:
    rec = write_wfdb(tmp_path, "g", 12, leads=("ECG1", "ECG2"))
    files = [("file", (p.name, p.read_bytes())) for p in (rec.with_suffix(".hea"), rec.with_suffix(".dat"))]
    entry = client.post("/v1/files", files=files).json()
    assert entry["ecg"]["leads"] == ["II", "V1"] and "'ECG1' assumed to be lead II" in entry["ecg"]["notes"][0]


def test_chat_window_bounded_before_reading(client: TestClient, tmp_path: Path) -> None:
    """A question about 20 min of ECG at once is refused (the model's memory grows with the window)."""
    rec = write_wfdb(tmp_path, "long", 1200, fs=100)
    files = [("file", (p.name, p.read_bytes())) for p in (rec.with_suffix(".hea"), rec.with_suffix(".dat"))]
    file_id = client.post("/v1/files", files=files).json()["id"]
    resp = client.post("/v1/chat/completions", json=_chat_body({"file_id": file_id}))
    assert resp.status_code == 422 and "at most 600 s" in resp.json()["error"]["message"]
    ok = client.post("/v1/chat/completions", json=_chat_body({"file_id": file_id, "start_s": 590, "end_s": 600}))
    assert ok.status_code == 200, ok.text


def test_plot_of_a_corrupt_sample_stays_small(client: TestClient, tmp_path: Path) -> None:
    """One sample of 10^7 mV (found by the long fuzz run) used to ask the ECG paper for 10^7 grid lines."""
    x = np.zeros((1, 1000), np.float32)
    x[0, 500] = 1e7
    np.savez(tmp_path / "spike.npz", signal=x, fs=500.0, leads=np.array(["II"]))
    entry = client.post("/v1/files", files=[("file", ("spike.npz", (tmp_path / "spike.npz").read_bytes()))]).json()
    png = client.get(f"/v1/files/{entry['id']}/plot.png", params={"end_s": 2})
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
