"""`--endpoint` predictor and the LLM judge against a minimal OpenAI-compatible server on 127.0.0.1."""

import base64
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from anyecg.eval.judge import Judge, parse_score, summarize_scores
from anyecg.eval.predictors import EndpointPredictor, build_messages
from anyecg.eval.samples import EvalRef, EvalSample


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict]] = []
    judge_calls: ClassVar[dict[str, int]] = {"n": 0}

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        msgs = body["messages"]
        if body["model"] == "judge":
            if len(msgs) == 1:
                answer = "Reasoning about the answer."
            elif "unsure" in msgs[0]["content"] and type(self).judge_calls["n"] == 0:
                type(self).judge_calls["n"] += 1
                answer = "I cannot decide."  # no number: the judge must ask again
            else:
                answer = "<think>maybe 2 or 3</think> Final score: 4"
        else:
            parts = msgs[-1]["content"]
            ecg = next(p["ecg_file"] for p in parts if p["type"] == "ecg_file")
            names = zipfile.ZipFile(io.BytesIO(base64.b64decode(ecg["data"]))).namelist()
            answer = f"{ecg['format']}|{','.join(sorted(names))}|{ecg.get('start_s')}|{ecg.get('mask_leads')}"
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


@pytest.fixture
def wfdb_record(tmp_path):
    wfdb = pytest.importorskip("wfdb")
    sig = np.sin(np.linspace(0, 20, 3600))[:, None].repeat(2, axis=1)
    wfdb.wrsamp("rec", fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=sig, fmt=["16", "16"],
                write_dir=str(tmp_path))
    return tmp_path / "rec"


def _sample(path: Path, sid: str = "s1", question: str = "Locate the PVC.") -> EvalSample:
    return EvalSample(sid, "localization", "t", (EvalRef(path, 1.0, 9.0),),
                      ({"role": "user", "content": f"<ecg>\n{question}"},), "No X Found", {"abnormal_type": "V"})


def test_messages_carry_ecg_file_parts(wfdb_record):
    msgs = build_messages(_sample(wfdb_record), mask_leads=["V1"])
    parts = msgs[0]["content"]
    assert [p["type"] for p in parts] == ["ecg_file", "text"]
    ecg = parts[0]["ecg_file"]
    assert ecg["format"] == "wfdb-zip" and ecg["start_s"] == 1.0 and ecg["end_s"] == 9.0
    assert ecg["mask_leads"] == ["V1"] and parts[1]["text"] == "Locate the PVC."


def test_endpoint_predictor_round_trip(server, wfdb_record):
    pred = EndpointPredictor(server, concurrency=4)
    samples = [_sample(wfdb_record, f"s{i}") for i in range(6)]
    answers = pred.predict(samples, [["V1"]] * 6)
    assert answers == ["wfdb-zip|rec.dat,rec.hea|1.0|['V1']"] * 6
    assert _Handler.requests[-1]["temperature"] == 0


def test_judge_scores_with_retry(server, wfdb_record):
    judge = Judge(server, "judge", retries=3, concurrency=1)
    a = _sample(wfdb_record, "a", "Compare the ECGs.")
    b = _sample(wfdb_record, "b", "unsure question")
    rows = judge.score_all([a, b], {"a": "sinus rhythm", "b": "no idea"})
    assert rows[0]["score"] == 4.0 and len(rows[0]["replies"]) == 1
    assert rows[1]["score"] == 4.0 and len(rows[1]["replies"]) == 2  # first reply had no number
    first_turn = next(r for r in _Handler.requests if r["model"] == "judge")["messages"][0]["content"]
    assert first_turn.startswith("For the given question <Compare the ECGs.> about multiple ECG-QA")
    s = summarize_scores([*rows, {"id": "c", "n_ecgs": 2, "score": None}])
    assert s["mean"] == 4.0 and s["unscored"] == 1 and s["distribution"] == {"4": 2}


@pytest.mark.parametrize(("text", "score"), [("4", 4.0), ("Score: 3.5/5", 5.0), ("final: 2", 2.0),
                                              ("<think>5</think> 1", 1.0), ("no number", None), ("7", None)])
def test_parse_score(text, score):
    assert parse_score(text) == score
