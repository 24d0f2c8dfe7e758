"""The JSON benchmark script runs and checks its targets (timings themselves are not tested)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_json.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_json", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_json"] = module
    spec.loader.exec_module(module)
    return module


def test_quick_run_prints_the_table_with_ratios(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--quick", "--sizes", "10,20", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| 10 |") or "| 20 |" in line]
    assert len(rows) == 2
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 14
        ratios = [cells[4], cells[6], cells[11]]  # save, first save, load
        assert all(r.endswith("x") and float(r[:-1]) > 0 for r in ratios), ratios
    assert "Small save (1 trial)" in out and "Largest 1 ms-ticker gap" in out


def _result(trials: int, save: float, load: float, first: float = 2.0) -> dict[str, float]:
    return {"trials": trials, "ours_save": save, "ours_first_save": first, "floor_save": 1.0,
            "ours_load": load, "floor_load": 1.0}  # fmt: skip


def test_targets_are_checked_at_1000_trials_and_up(bench: ModuleType) -> None:
    results = [_result(100, 9.0, 9.0), _result(1_000, 2.9, 4.1), _result(10_000, 3.1, 3.9)]
    misses = bench.check_targets(results)
    assert len(misses) == 2
    assert "load at 1,000" in misses[0] and "save at 10,000" in misses[1]
    assert bench.check_targets([_result(1_000, 2.9, 3.9)]) == []


def test_the_first_save_target_is_checked_too(bench: ModuleType) -> None:
    misses = bench.check_targets([_result(1_000, 2.0, 3.0, first=3.2)])
    assert len(misses) == 1 and misses[0].startswith("first save at 1,000 trials is 3.20x")


def test_strict_exits_1_when_a_target_is_missed(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "check_targets", lambda results: ["save at 10 trials is slow"])
    assert bench.main(["--quick", "--sizes", "10", "--repeats", "1", "--strict"]) == 1
    assert bench.main(["--quick", "--sizes", "10", "--repeats", "1"]) == 0
