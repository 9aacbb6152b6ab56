"""Bounded fuzzing (issue 16): mutated files of every format through every reader and through the upload route.

Fails on any exception outside the `AnyECGError` family, any HTTP 5xx, a reader call past its time limit, or
peak RSS growing by more than RSS_BOUND_MB. The default run is fixed-seed and takes well under 60 s;
`-m slow` runs `test_fuzz_long` for ANYECG_FUZZ_SECONDS (default 600) and prints its figures.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anyecg.chat import ECGChat
from anyecg.serve.app import ECGServer
from anyecg.serve.settings import ServeSettings
from anyecg.testing.server import tiny_checkpoint
from fuzz_ecg import check_readers, make_seeds, mutate, reset_peak_rss, rss_mb, write_files

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RSS_BOUND_MB = 500  # a file may legitimately inflate to 64 MB (.npz/.mat floor), decoded in a few copies
READER_EXAMPLES = 500
UPLOAD_EXAMPLES = 100

def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory):
    return make_seeds(tmp_path_factory.mktemp("seeds"), SHARED_DATA if SHARED_DATA.is_dir() else None)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    chat = ECGChat.load(tiny_checkpoint(tmp_path_factory.mktemp("ckpt")), max_new_tokens=2)
    settings_ = ServeSettings(max_tokens=2, max_upload_mb=4, max_samples=5_000_000, max_files=8)
    with TestClient(ECGServer(chat, settings_).app(), raise_server_exceptions=False) as c:
        yield c


def upload_statuses(client: TestClient, files: dict[str, bytes], rnd: random.Random) -> list[tuple[str, int]]:
    """Upload the files, then use a stored one as the page and a chat would; every (route, status)."""
    resp = client.post("/v1/files", files=[("file", (name, data)) for name, data in sorted(files.items())])
    out = [("upload", resp.status_code)]
    if resp.status_code != 200:
        return out
    file_id = resp.json()["id"]
    out.append(("signal", client.get(f"/v1/files/{file_id}/signal", params={"points": 200}).status_code))
    if rnd.random() < 0.2:
        out.append(("plot", client.get(f"/v1/files/{file_id}/plot.png", params={"end_s": 2}).status_code))
    if rnd.random() < 0.3:
        body = {"messages": [{"role": "user", "content": [{"type": "ecg_file", "ecg_file": {"file_id": file_id}},
                                                          {"type": "text", "text": "Rhythm?"}]}]}
        out.append(("chat", client.post("/v1/chat/completions", json=body).status_code))
    client.delete(f"/v1/files/{file_id}")
    return out


def test_fuzz_readers(seeds, tmp_path: Path) -> None:
    reset_peak_rss()
    base = rss_mb()

    @fuzz_settings(READER_EXAMPLES)
    @given(st.integers(0, len(seeds) - 1), st.integers(0, 2**32))
    def one(index: int, seed: int) -> None:
        files, target = mutate(seeds[index], random.Random(seed))
        write_files(tmp_path / "case", files)
        crash = check_readers(tmp_path / "case" / seeds[index].main)
        assert crash is None, f"{seeds[index].name} with {target} mutated (seed {seed}): {crash}"

    one()
    assert rss_mb("VmHWM") - base < RSS_BOUND_MB


def test_fuzz_upload_route(seeds, client: TestClient) -> None:
    reset_peak_rss()
    base = rss_mb()

    @fuzz_settings(UPLOAD_EXAMPLES)
    @given(st.integers(0, len(seeds) - 1), st.integers(0, 2**32))
    def one(index: int, seed: int) -> None:
        rnd = random.Random(seed)
        files, target = mutate(seeds[index], rnd)
        bad = [(route, status) for route, status in upload_statuses(client, files, rnd) if status >= 500]
        assert not bad, f"{seeds[index].name} with {target} mutated (seed {seed}): {bad}"

    one()
    assert client.get("/health").status_code == 200
    assert rss_mb("VmHWM") - base < RSS_BOUND_MB


@pytest.mark.slow
def test_fuzz_long(seeds, client: TestClient, tmp_path: Path) -> None:
    """ANYECG_FUZZ_SECONDS (default 600) of fuzzing from seed 2026: 9 files of 10 through the readers, 1 of 10
    through the upload route; figures printed and written to ANYECG_FUZZ_REPORT (JSON) when set."""
    budget = float(os.environ.get("ANYECG_FUZZ_SECONDS", "600"))
    rnd = random.Random(2026)
    reset_peak_rss()
    base = rss_mb()
    started = time.monotonic()
    tried = {"readers": 0, "upload": 0}
    crashes: list[str] = []
    server_errors: list[str] = []
    per_seed: dict[str, int] = {}
    while time.monotonic() - started < budget:
        seed = rnd.choice(seeds)
        files, target = mutate(seed, rnd)
        per_seed[seed.name] = per_seed.get(seed.name, 0) + 1
        write_files(tmp_path / "case", files)  # first: after a crash of the process the culprit is there
        if tried["readers"] % 10 == 9:
            tried["upload"] += 1
            server_errors += [f"{seed.name}/{target}: {route} {status}"
                              for route, status in upload_statuses(client, files, rnd) if status >= 500]
        tried["readers"] += 1
        if crash := check_readers(tmp_path / "case" / seed.main):
            crashes.append(f"{seed.name}/{target}: {crash}")
    report = {"seconds": round(time.monotonic() - started), "files_through_readers": tried["readers"],
              "files_through_upload": tried["upload"], "crashes": len(crashes), "server_5xx": len(server_errors),
              "peak_rss_growth_mb": round(rss_mb("VmHWM") - base), "per_seed": per_seed,
              "examples": (crashes + server_errors)[:20]}
    print(json.dumps(report, indent=2))
    if path := os.environ.get("ANYECG_FUZZ_REPORT"):
        Path(path).write_text(json.dumps(report, indent=2))
    assert not crashes and not server_errors, report["examples"]
    assert report["peak_rss_growth_mb"] < RSS_BOUND_MB
