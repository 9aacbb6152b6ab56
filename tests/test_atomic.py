"""`anyecg.atomic`: files and folders appear whole or not at all, with ordinary permissions."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from anyecg.atomic import atomic_dir, atomic_path, write_atomic


def test_file_replaced_only_on_success(tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "sub" / "a.txt", "old")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert path.read_text() == "old" and sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]


def test_folder_replaced_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "export"
    with atomic_dir(out) as tmp:
        (tmp / "model.yaml").write_text("v1")
    assert (out / "model.yaml").read_text() == "v1" and stat.S_IMODE(out.stat().st_mode) == 0o755
    with pytest.raises(RuntimeError), atomic_dir(out) as tmp:
        (tmp / "model.yaml").write_text("v2")
        raise RuntimeError("crash")
    assert (out / "model.yaml").read_text() == "v1"
    with atomic_dir(out) as tmp:
        (tmp / "other").write_text("v3")
    assert sorted(p.name for p in out.iterdir()) == ["other"] and [p.name for p in tmp_path.iterdir()] == ["export"]
