"""A real `anyecg serve` process on 127.0.0.1 (random free port), driven by the official `openai` client."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from anyecg.testing.server import ServerProcess, ecg_part, tiny_checkpoint, write_wfdb

openai = pytest.importorskip("openai", reason="the client example needs `pip install openai`")

KEY = "test-key"


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ecg")
    return {name: write_wfdb(folder, name, seconds) for name, seconds in (("a", 12), ("b", 30), ("c", 10))}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    model = tiny_checkpoint(tmp_path_factory.mktemp("ckpt"))
    with ServerProcess(model, "--api-key", KEY, "--concurrency", "1", "--queue", "0", "--max-tokens", "48",
                       "--max-upload-mb", "1", "--timeout", "60") as proc:
        yield proc


@pytest.fixture(scope="module")
def client(server: ServerProcess):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0, timeout=60)


def test_openai_client_one_and_three_ecgs(client, records: dict[str, Path]) -> None:
    assert [m.id for m in client.models.list().data] == ["anyecg"]
    one = client.chat.completions.create(model="anyecg", max_tokens=8, messages=[{"role": "user", "content": [
        ecg_part(records["a"]), {"type": "text", "text": "Locate the premature ventricular contractions."}]}])
    assert isinstance(one.choices[0].message.content, str)
    three = client.chat.completions.create(model="anyecg", max_tokens=8, messages=[{"role": "user", "content": [
        *(ecg_part(records[k]) for k in "abc"), {"type": "text", "text": "Compare these ECGs."}]}])
    assert three.choices[0].finish_reason in ("stop", "length")


def test_openai_client_streams(client, records: dict[str, Path]) -> None:
    stream = client.chat.completions.create(model="anyecg", max_tokens=8, stream=True, messages=[
        {"role": "user", "content": [ecg_part(records["b"], start_s=5, end_s=15), {"type": "text", "text": "Rate?"}]}])
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


def test_auth_required(server: ServerProcess, records: dict[str, Path]) -> None:
    bad = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_oversized_upload_413(server: ServerProcess) -> None:
    part = {"type": "ecg_file", "ecg_file": {"data": base64.b64encode(b"1" * (2 << 20)).decode(), "format": "csv"}}
    resp = httpx.post(f"{server.url}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"}, timeout=60,
                      json={"messages": [{"role": "user", "content": [part, {"type": "text", "text": "Hi"}]}]})
    assert resp.status_code == 413 and "larger than" in resp.json()["error"]["message"]


def test_queue_full_429_with_retry_after(server: ServerProcess, records: dict[str, Path]) -> None:
    body = {"max_tokens": 48, "messages": [{"role": "user", "content": [ecg_part(records["b"]),
                                                                        {"type": "text", "text": "Report?"}]}]}

    def post(_: int) -> httpx.Response:
        return httpx.post(f"{server.url}/v1/chat/completions", json=body, timeout=60,
                          headers={"Authorization": f"Bearer {KEY}"})

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(post, range(4)))
    codes = sorted(r.status_code for r in answers)
    assert 200 in codes and 429 in codes, codes
    busy = next(r for r in answers if r.status_code == 429)
    assert int(busy.headers["retry-after"]) >= 1 and "busy" in busy.json()["error"]["message"]
