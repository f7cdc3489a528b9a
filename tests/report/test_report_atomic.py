"""Report files are written atomically: never half-written, no temporary files left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pagerace.report import atomic
from pagerace.report.atomic import write_atomic


def test_writes_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_atomic(path, "first")
    write_atomic(path, "second \u2192")
    assert path.read_text(encoding="utf-8") == "second \u2192"
    assert os.listdir(tmp_path) == ["report.html"]


def test_mode_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "r.html", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "r.html").stat().st_mode & 0o777 == 0o644


def test_interrupted_write_leaves_the_old_file_and_no_temp(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.html"
    write_atomic(path, "old complete report")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "new report" * 1000)
    assert path.read_text() == "old complete report"
    assert os.listdir(tmp_path) == ["report.html"]


def test_failed_write_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        write_atomic(tmp_path / "r.html", "x")
    assert os.listdir(tmp_path) == []


def test_missing_directory_or_directory_target(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "no" / "r.html", "x")
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path, "x")
    assert os.listdir(tmp_path) == []


def test_relative_path_in_the_current_directory(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_atomic("r.html", "x")
    assert (tmp_path / "r.html").read_text() == "x"
