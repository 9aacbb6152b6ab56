"""A new file format is one reader module plus one `register_format` call (docs/architecture.md, "To add …"):
dispatch, `anyecg info`, the server's upload route and `ECGChat.prepare` pick it up without other edits."""

from __future__ import annotations

import base64
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from anyecg.io import formats, read_info, read_record

TOY_READER = '''
"""Toy format: first line `fs=<Hz> leads=<A,B>`, then one line of comma-separated mV values per lead."""
from pathlib import Path

import numpy as np

from anyecg.io.common import check_fs, make_info, make_record, select_channels, window


def _parse(path: Path):
    head, *rows = path.read_text().splitlines()
    fields = dict(kv.split("=") for kv in head.split())
    data = np.array([[float(v) for v in row.split(",")] for row in rows], dtype=np.float32)
    return data, fields["leads"].split(","), float(fields["fs"])


def read_info(path, opts):
    data, names, fs = _parse(path)
    return make_info(path, "toy", check_fs(fs, opts, path), data.shape[1], select_channels(names, opts, path))


def read(path, opts):
    data, names, fs = _parse(path)
    channels = select_channels(names, opts, path)
    fs = check_fs(fs, opts, path)
    start, stop = window(data.shape[1], fs, opts, path)
    return make_record(path, "toy", data[list(channels.index), start:stop], fs, channels, offset=start)
'''


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The toy reader as its own module, registered for the test only (the table is restored after)."""
    (tmp_path / "toyfmt").mkdir()
    (tmp_path / "toyfmt" / "__init__.py").write_text("")
    (tmp_path / "toyfmt" / "reader.py").write_text(textwrap.dedent(TOY_READER))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(formats, "FORMATS", list(formats.FORMATS))
    monkeypatch.setattr(formats, "BY_NAME", dict(formats.BY_NAME))
    monkeypatch.setattr(formats, "BY_EXTENSION", dict(formats.BY_EXTENSION))
    import anyecg.io.reader as reader

    monkeypatch.setattr(reader, "BY_NAME", formats.BY_NAME)
    fmt = formats.register_format(formats.FileFormat("toy", (".toyecg",), "toyfmt.reader", "toy text ECG",
                                                     by_extension=True))
    t = np.arange(2500) / 250
    signal = np.stack([np.sin(2 * np.pi * 1.2 * t), np.cos(2 * np.pi * 1.2 * t)])
    path = tmp_path / "strip.toyecg"
    path.write_text("fs=250 leads=II,V1\n" + "\n".join(",".join(f"{v:.4f}" for v in row) for row in signal))
    yield fmt, path
    for name in ("toyfmt.reader", "toyfmt"):
        sys.modules.pop(name, None)


def test_registered_format_reads_everywhere(toy, tmp_path: Path) -> None:
    fmt, path = toy
    assert formats.format_by_name("toy") is fmt and formats.format_of_suffix(path) is fmt
    info = read_info(path)
    assert info.format == "toy" and info.fs == 250 and info.leads == ("II", "V1")
    rec = read_record(path, start_s=2.0, end_s=4.0)
    assert rec.signal.shape == (2, 500) and rec.offset == 500
    assert "toy text ECG" in formats.summary()

    from anyecg.chat import prepare

    assert prepare(path).input.duration_s == pytest.approx(10.0)

    from anyecg.serve.uploads import check_format

    assert check_format("toy") is fmt


def test_registered_format_uploads(toy, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from anyecg.chat import ECGChat
    from anyecg.serve.app import ECGServer
    from anyecg.serve.settings import ServeSettings
    from anyecg.testing.server import tiny_checkpoint

    _, path = toy
    server = ECGServer(ECGChat.load(tiny_checkpoint(tmp_path / "ckpt"), max_new_tokens=4),
                       ServeSettings(max_tokens=4, timeout_s=60))
    with TestClient(server.app()) as client:
        body = {"model": "anyecg", "max_tokens": 4, "messages": [{"role": "user", "content": [
            {"type": "ecg_file", "ecg_file": {"data": base64.b64encode(path.read_bytes()).decode(),
                                              "format": "toy", "name": path.name}},
            {"type": "text", "text": "Is the rhythm regular?"}]}]}
        reply = client.post("/v1/chat/completions", json=body)
        assert reply.status_code == 200, reply.text
