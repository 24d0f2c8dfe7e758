"""Trial status transitions: every legal and illegal move, time stamps, runners, metadata."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from aestore.core import BaseTrial, BatchTrial, Runner, Trial, TrialStatus
from aestore.exceptions import IllegalStatusTransitionError, ModelError
from tests.core.helpers import arm_run, assert_model_error, experiment

S = TrialStatus

# How to reach each status from CANDIDATE along legal moves.
PATHS: dict[TrialStatus, list[str]] = {
    S.CANDIDATE: [],
    S.STAGED: ["mark_staged"],
    S.RUNNING: ["mark_running"],
    S.COMPLETED: ["mark_running", "mark_completed"],
    S.EARLY_STOPPED: ["mark_running", "mark_early_stopped"],
    S.FAILED: ["mark_running", "mark_failed"],
    S.ABANDONED: ["mark_abandoned"],
}

# Each action, the status it leads to, and the statuses it may start from.
ACTIONS: dict[str, tuple[TrialStatus, set[TrialStatus]]] = {
    "mark_staged": (S.STAGED, {S.CANDIDATE}),
    "mark_running": (S.RUNNING, {S.CANDIDATE, S.STAGED}),
    "mark_completed": (S.COMPLETED, {S.RUNNING}),
    "mark_early_stopped": (S.EARLY_STOPPED, {S.RUNNING}),
    "mark_failed": (S.FAILED, {S.CANDIDATE, S.STAGED, S.RUNNING}),
    "mark_abandoned": (S.ABANDONED, {S.CANDIDATE, S.STAGED, S.RUNNING}),
}

LEGAL = [
    pytest.param(start, action, id=f"{start.name}-{action}")
    for start in S
    for action, (_, allowed) in ACTIONS.items()
    if start in allowed
]
ILLEGAL = [
    pytest.param(start, action, id=f"{start.name}-{action}")
    for start in S
    for action, (_, allowed) in ACTIONS.items()
    if start not in allowed
]

STAMPS = {
    "mark_staged": "time_staged",
    "mark_running": "time_run_started",
    "mark_completed": "time_completed",
    "mark_early_stopped": "time_completed",
    "mark_failed": "time_completed",
    "mark_abandoned": "time_completed",
}


def _trial(status: TrialStatus, batch: bool = False) -> BaseTrial:
    exp = experiment(runner=Runner())
    trial: BaseTrial = (
        exp.new_batch_trial(arm_run(0.1, 0.2)) if batch else exp.new_trial(arm_run(0.1))
    )
    for action in PATHS[status]:
        getattr(trial, action)()
    assert trial.status is status
    return trial


def test_legal_and_illegal_tables_cover_every_pair() -> None:
    assert len(LEGAL) + len(ILLEGAL) == len(S) * len(ACTIONS)
    assert len(LEGAL) == 11


@pytest.mark.parametrize(("start", "action"), LEGAL)
def test_legal_transition_moves_the_trial(start: TrialStatus, action: str) -> None:
    trial = _trial(start)
    assert getattr(trial, action)() is trial
    assert trial.status is ACTIONS[action][0]


@pytest.mark.parametrize(("start", "action"), LEGAL)
def test_legal_transition_on_a_batch_trial(start: TrialStatus, action: str) -> None:
    trial = _trial(start, batch=True)
    getattr(trial, action)()
    assert trial.status is ACTIONS[action][0]


@pytest.mark.parametrize(("start", "action"), LEGAL)
def test_legal_transition_stamps_its_time(start: TrialStatus, action: str) -> None:
    trial = _trial(start)
    before = datetime.now(UTC)
    getattr(trial, action)()
    stamp = getattr(trial, STAMPS[action])
    assert stamp is not None and stamp.tzinfo is not None
    assert before <= stamp <= datetime.now(UTC)


@pytest.mark.parametrize(("start", "action"), ILLEGAL)
def test_illegal_transition_is_rejected(start: TrialStatus, action: str) -> None:
    trial = _trial(start)
    target = ACTIONS[action][0]
    with pytest.raises(IllegalStatusTransitionError) as excinfo:
        getattr(trial, action)()
    assert_model_error(excinfo, f"Trial {trial.index}", start.name, target.name)
    assert (excinfo.value.current, excinfo.value.target) == (start.name, target.name)


@pytest.mark.parametrize(("start", "action"), ILLEGAL)
def test_illegal_transition_changes_nothing(start: TrialStatus, action: str) -> None:
    trial = _trial(start)
    stamps = {name: getattr(trial, name) for name in set(STAMPS.values())}
    with pytest.raises(IllegalStatusTransitionError):
        getattr(trial, action)()
    assert trial.status is start
    assert {name: getattr(trial, name) for name in stamps} == stamps


@pytest.mark.parametrize(("start", "action"), ILLEGAL)
def test_illegal_transition_on_a_batch_trial(start: TrialStatus, action: str) -> None:
    trial = _trial(start, batch=True)
    with pytest.raises(IllegalStatusTransitionError):
        getattr(trial, action)()
    assert trial.status is start


@pytest.mark.parametrize(
    ("status", "terminal"),
    [(s, s in {S.FAILED, S.COMPLETED, S.ABANDONED, S.EARLY_STOPPED}) for s in S],
    ids=[s.name for s in S],
)
def test_is_terminal(status: TrialStatus, terminal: bool) -> None:
    assert status.is_terminal is terminal
    assert _trial(status).is_terminal is terminal


def test_a_new_trial_is_a_candidate_with_only_time_created() -> None:
    before = datetime.now(UTC)
    trial = experiment().new_trial()
    assert trial.status is S.CANDIDATE
    assert before <= trial.time_created <= datetime.now(UTC)
    assert (trial.time_staged, trial.time_run_started, trial.time_completed) == (None, None, None)
    assert (trial.failed_reason, trial.abandoned_reason) == (None, None)


def test_stamps_follow_the_life_cycle_in_order() -> None:
    trial = _trial(S.CANDIDATE)
    trial.mark_staged().mark_running().mark_completed()
    assert trial.time_created <= trial.time_staged <= trial.time_run_started  # type: ignore[operator]
    assert trial.time_run_started <= trial.time_completed  # type: ignore[operator]


def test_running_from_staged_keeps_the_staged_time() -> None:
    trial = _trial(S.STAGED)
    staged = trial.time_staged
    trial.mark_running()
    assert trial.time_staged == staged and staged is not None


def test_mark_failed_records_the_reason() -> None:
    trial = _trial(S.RUNNING)
    trial.mark_failed(reason="OOM")
    assert (trial.status, trial.failed_reason, trial.abandoned_reason) == (S.FAILED, "OOM", None)


def test_mark_abandoned_records_the_reason() -> None:
    trial = _trial(S.CANDIDATE)
    trial.mark_abandoned(reason="budget")
    assert (trial.status, trial.abandoned_reason, trial.failed_reason) == (
        S.ABANDONED,
        "budget",
        None,
    )


def test_reasons_default_to_none() -> None:
    failed, abandoned = _trial(S.RUNNING), _trial(S.RUNNING)
    failed.mark_failed()
    abandoned.mark_abandoned()
    assert (failed.failed_reason, abandoned.abandoned_reason) == (None, None)


# --- runners --------------------------------------------------------------------------------


def test_mark_running_needs_a_runner() -> None:
    trial = experiment().new_trial(arm_run(0.1))
    with pytest.raises(ModelError) as excinfo:
        trial.mark_running()
    assert_model_error(excinfo, "runner", "no_runner_required")
    assert (trial.status, trial.time_run_started) == (S.CANDIDATE, None)


def test_mark_running_without_a_runner_when_told_so() -> None:
    trial = experiment().new_trial(arm_run(0.1))
    trial.mark_running(no_runner_required=True)
    assert trial.status is S.RUNNING


def test_mark_running_uses_the_trials_own_runner() -> None:
    trial = experiment().new_trial(arm_run(0.1))
    trial.runner = Runner()
    trial.mark_running()
    assert trial.status is S.RUNNING


def test_mark_running_uses_the_experiments_runner() -> None:
    trial = experiment(runner=Runner()).new_trial(arm_run(0.1))
    trial.mark_running()
    assert (trial.status, trial.runner) == (S.RUNNING, None)


@pytest.mark.parametrize("start", [S.RUNNING, S.COMPLETED, S.FAILED], ids=lambda s: s.name)
def test_mark_running_from_an_illegal_status_says_so_even_without_a_runner(
    start: TrialStatus,
) -> None:
    # Used to complain about the missing runner instead of the illegal transition.
    exp = experiment()
    trial = exp.new_trial(arm_run(0.1))
    for action in PATHS[start]:
        getattr(trial, action)(**({"no_runner_required": True} if action == "mark_running" else {}))
    with pytest.raises(IllegalStatusTransitionError) as excinfo:
        trial.mark_running()
    assert_model_error(excinfo, start.name, "RUNNING")


# --- mark_as --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.CANDIDATE, S.STAGED),
        (S.STAGED, S.RUNNING),
        (S.RUNNING, S.COMPLETED),
        (S.RUNNING, S.FAILED),
    ],
    ids=lambda s: s.name,
)
def test_mark_as_dispatches_to_the_mark_method(start: TrialStatus, target: TrialStatus) -> None:
    trial = _trial(start)
    trial.mark_as(target)
    assert trial.status is target


def test_mark_as_passes_keyword_arguments() -> None:
    trial = _trial(S.RUNNING)
    trial.mark_as(S.ABANDONED, reason="why")
    assert trial.abandoned_reason == "why"


def test_mark_as_candidate_is_illegal() -> None:
    with pytest.raises(IllegalStatusTransitionError) as excinfo:
        _trial(S.STAGED).mark_as(S.CANDIDATE)
    assert_model_error(excinfo, "CANDIDATE")


# --- fields and metadata ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "new", [lambda e: e.new_trial, lambda e: e.new_batch_trial], ids=["trial", "batch"]
)
def test_trial_fields_have_their_defaults(new: Callable) -> None:
    trial = new(experiment())()
    assert (trial.index, trial.trial_type, trial.ttl_seconds, trial.runner) == (0, None, None, None)
    assert (trial.run_metadata, trial.stop_metadata, trial.properties) == ({}, {}, {})


@pytest.mark.parametrize(
    "new", [lambda e: e.new_trial, lambda e: e.new_batch_trial], ids=["trial", "batch"]
)
def test_trial_type_and_ttl_are_kept(new: Callable) -> None:
    trial = new(experiment())(trial_type="short", ttl_seconds=60)
    assert (trial.trial_type, trial.ttl_seconds) == ("short", 60)


@pytest.mark.parametrize("ttl", [0, -5], ids=["zero", "negative"])
def test_ttl_must_be_positive(ttl: int) -> None:
    with pytest.raises(ModelError) as excinfo:
        experiment().new_trial(ttl_seconds=ttl)
    assert_model_error(excinfo, "ttl_seconds", str(ttl))


def test_a_rejected_trial_is_not_added() -> None:
    exp = experiment()
    with pytest.raises(ModelError):
        exp.new_batch_trial(ttl_seconds=0)
    assert exp.trials == {}


def test_update_run_metadata_merges_and_returns() -> None:
    trial = experiment().new_trial()
    trial.update_run_metadata({"job": 1, "host": "a"})
    result = trial.update_run_metadata({"host": "b"})
    assert result == trial.run_metadata == {"job": 1, "host": "b"}


def test_update_stop_metadata_merges_and_returns() -> None:
    trial = experiment().new_trial()
    assert (
        trial.update_stop_metadata({"why": "plateau"}) == trial.stop_metadata == {"why": "plateau"}
    )


@pytest.mark.parametrize("cls", [Trial, BatchTrial], ids=["Trial", "BatchTrial"])
def test_trial_knows_its_experiment(cls: type) -> None:
    exp = experiment()
    trial = exp.new_trial() if cls is Trial else exp.new_batch_trial()
    assert type(trial) is cls and trial.experiment is exp
