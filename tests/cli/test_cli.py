"""The ``aestore`` command: demo, init-db and list, run in-process and as ``python -m``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aestore.cli import main


def test_demo_saves_and_loads_json_and_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--dir", str(tmp_path), "--trials", "5"]) == 0
    out = capsys.readouterr().out
    assert "JSON" in out and "SQL" in out and "equal: True" in out
    assert (tmp_path / "experiment.json").stat().st_size > 0
    assert (tmp_path / "aestore.db").stat().st_size > 0


def test_init_db_is_idempotent_and_list_shows_saved_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert main(["init-db", "--url", url]) == 0
    assert main(["init-db", "--url", url]) == 0
    assert "tables are ready" in capsys.readouterr().out
    assert main(["list", "--url", url]) == 0
    assert capsys.readouterr().out == ""
    assert main(["demo", "--dir", str(tmp_path), "--url", url, "--trials", "2"]) == 0
    capsys.readouterr()
    assert main(["list", "--url", url]) == 0
    assert capsys.readouterr().out.split() == ["batch_experiment", "demo_experiment"]


def test_init_db_against_unreachable_server_masks_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "mysql+aiomysql://someone:hunter2-secret@127.0.0.1:1/nowhere"
    assert main(["init-db", "--url", url]) == 1
    err = capsys.readouterr().err
    assert "hunter2-secret" not in err
    assert "127.0.0.1" in err and "nowhere" in err


def test_python_dash_m_aestore_init_db(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "aestore", "init-db", "--url", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "tables are ready" in done.stdout
    assert (tmp_path / "m.db").exists()
