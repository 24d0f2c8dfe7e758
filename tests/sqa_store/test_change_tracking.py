"""Change tracking in the SQL store: a re-save encodes only the trials the journal noted.

Scenario of most tests: save, change the experiment in place, save again (counting the trials
encoded, by a spy on ``Encoder.trial_rows``), load: the loaded experiment equals the live one.
The counts prove the fast path is taken (only noted, new and untracked trials are encoded) and
that the fallbacks (journal cut back or replaced, trials replaced or removed by hand) encode
every trial; the loads prove nothing was missed either way.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import timedelta, timezone
from typing import Any

import numpy as np
import pytest

from aestore.core import Arm, Data, Experiment, GeneratorRun
from aestore.core.base import values_equal
from aestore.core.batch_trial import BatchTrial
from aestore.core.tracking import JOURNAL, Journal, journal_of
from aestore.core.trial import Trial
from aestore.exceptions import SQAEncodeError
from aestore.samples import make_batch_experiment, make_experiment
from aestore.storage.json_store.registry import DEFAULT_REGISTRY
from aestore.storage.sqa_store import db
from aestore.storage.sqa_store import save as save_module
from aestore.storage.sqa_store.encoder import Encoder
from aestore.storage.sqa_store.load import load_experiment
from aestore.storage.sqa_store.save import save_experiment, save_or_update_trial
from aestore.storage.sqa_store.sqa_config import SQAConfig
from tests.fixtures import CustomRunner
from tests.sqa_store.conftest import full_config

Change = Callable[[Experiment], Any]


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The indices of the trials encoded by saves (``Encoder.trial_rows`` calls), in order."""
    calls: list[int] = []
    original = Encoder.trial_rows

    def spy(self: Encoder, trial: Any, experiment_id: int) -> Any:
        calls.append(trial.index)
        return original(self, trial, experiment_id)

    monkeypatch.setattr(Encoder, "trial_rows", spy)
    yield calls


def _tracking_config() -> SQAConfig:
    """The full test config, plus JSON entries for numpy arrays and sets (untracked values).

    Build it once per test: saves under another config compare every trial.
    """
    registry = DEFAULT_REGISTRY.copy()
    registry.register_class(
        np.ndarray,
        to_dict=lambda a: {"__type": "ndarray", "values": a.tolist(), "dtype": str(a.dtype)},
        from_dict=lambda values, dtype: np.array(values, dtype=dtype),
    )
    registry.register_class(
        set,
        to_dict=lambda s: {"__type": "set", "items": sorted(s)},
        from_dict=lambda items: set(items),
    )
    base = full_config()
    return SQAConfig(
        metric_registry=base.metric_registry,
        runner_registry=base.runner_registry,
        experiment_type_enum=base.experiment_type_enum,
        json_encoder_registry=registry.encoders,
        json_decoder_registry=registry.decoders,
    )


async def _save_counting(
    experiment: Experiment, encoded: list[int], config: SQAConfig | None = None
) -> list[int]:
    """Save and return the indices of the trials this save encoded."""
    encoded.clear()
    await save_experiment(experiment, config)
    return sorted(encoded)


async def _stored(experiment: Experiment, config: SQAConfig | None = None) -> Experiment:
    return await load_experiment(experiment.name or "", config)


def _batch(experiment: Experiment, index: int = 0) -> BatchTrial:
    trial = experiment.trials[index]
    assert isinstance(trial, BatchTrial)
    return trial


# --- each in-place change is stored, encoding only the changed trial ---------------------------


def _experiment_with_nested_values() -> Experiment:
    experiment = make_experiment(5)
    gr = experiment.trials[1].generator_run
    assert gr is not None
    gr.gen_metadata = {"history": {"seeds": [1, 2]}, "seed": 0}
    gr.model_kwargs = {"acquisition": {"name": "qEI", "options": {"restarts": [10]}}}
    experiment.trials[1].run_metadata["n"] = 1
    experiment.trials[2].runner = CustomRunner("https://trial.example", retries=3)
    experiment.new_trial(GeneratorRun([Arm({**experiment.trials[0].arm.parameters, "x1": 0.3})]))
    return experiment


def _set_runner_retries(experiment: Experiment) -> None:
    runner = experiment.trials[2].runner
    assert isinstance(runner, CustomRunner)
    runner.retries = 9


def _attach(experiment: Experiment, index: int) -> None:
    trial = experiment.trials[index]
    rows = [
        {"trial_index": index, "arm_name": a.name, "metric_name": "accuracy", "mean": 0.5}
        | {"sem": 0.01}
        for a in trial.arms
    ]
    experiment.attach_data(Data(rows))


# (make, change, the trial index it changes)
IN_PLACE: dict[str, tuple[Callable[[], Experiment], Change, int]] = {
    "gen_metadata nested append": (
        _experiment_with_nested_values,
        lambda e: e.trials[1].generator_run.gen_metadata["history"]["seeds"].append(3),
        1,
    ),
    "gen_metadata nested setitem": (
        _experiment_with_nested_values,
        lambda e: e.trials[1].generator_run.gen_metadata["history"].__setitem__("new", {"a": 1}),
        1,
    ),
    "model_kwargs nested": (
        _experiment_with_nested_values,
        lambda e: (
            e.trials[1]
            .generator_run.model_kwargs["acquisition"]["options"]["restarts"]
            .__setitem__(0, 20)
        ),
        1,
    ),
    "batch model_kwargs": (
        make_batch_experiment,
        lambda e: _batch(e).generator_runs[0].model_kwargs.update(num_restarts=20),
        0,
    ),
    "arm parameter": (
        _experiment_with_nested_values,
        lambda e: e.trials[1].arm.parameters.update(x1=0.123),
        1,
    ),
    "arm parameter int to float": (
        _experiment_with_nested_values,
        lambda e: e.trials[1].arm.parameters.__setitem__(
            "layers", float(e.trials[1].arm.parameters["layers"])
        ),
        1,
    ),
    "run_metadata update": (
        _experiment_with_nested_values,
        lambda e: e.trials[1].run_metadata.update(job_id="other", extra={"k": [1]}),
        1,
    ),
    "run_metadata int to float": (
        _experiment_with_nested_values,
        lambda e: e.trials[1].run_metadata.update(n=1.0),
        1,
    ),
    "custom runner field": (_experiment_with_nested_values, _set_runner_retries, 2),
    "time stamp other UTC offset": (
        _experiment_with_nested_values,
        lambda e: setattr(
            e.trials[1],
            "time_completed",
            e.trials[1].time_completed.astimezone(timezone(timedelta(hours=5, minutes=30))),
        ),
        1,
    ),
    "batch abandoned arm added": (
        make_batch_experiment,
        lambda e: _batch(e).mark_arm_abandoned(_batch(e).arms[2].name or "", reason="late"),
        0,
    ),
    "batch generator run weight": (
        make_batch_experiment,
        lambda e: _batch(e).generator_run_structs[0].generator_run.weights.__setitem__(0, 0.9),
        0,
    ),
    "status via mark_running": (
        _experiment_with_nested_values,
        lambda e: e.trials[5].mark_running(),
        5,
    ),
    "status via mark_abandoned": (
        _experiment_with_nested_values,
        lambda e: e.trials[5].mark_abandoned(reason="no budget"),
        5,
    ),
    "new data attached": (_experiment_with_nested_values, lambda e: _attach(e, 1), 1),
    "new data attached to a batch": (make_batch_experiment, lambda e: _attach(e, 0), 0),
}


@pytest.mark.parametrize(("make", "change", "index"), list(IN_PLACE.values()), ids=list(IN_PLACE))
async def test_in_place_change_is_stored_by_encoding_only_its_trial(
    store: str, encoded: list[int], make: Callable[[], Experiment], change: Change, index: int
) -> None:
    config = full_config()
    experiment = make()
    await save_experiment(experiment, config)
    assert await _save_counting(experiment, encoded, config) == []
    change(experiment)
    assert await _save_counting(experiment, encoded, config) == [index]
    assert await _stored(experiment, config) == experiment
    # Once stored, the next save has nothing to compare again.
    assert await _save_counting(experiment, encoded, config) == []


async def test_status_changes_through_the_life_cycle_are_stored(
    store: str, encoded: list[int]
) -> None:
    experiment = make_experiment(3)
    trial = experiment.new_trial(GeneratorRun([Arm({"x1": 0.2, "x2": 0.8})]))
    await save_experiment(experiment)
    for step in (trial.mark_staged, trial.mark_running, trial.mark_completed):
        step()
        assert await _save_counting(experiment, encoded) == [3]
        assert await _stored(experiment) == experiment


async def test_a_trial_changed_again_after_a_save_is_stored_again(
    store: str, encoded: list[int]
) -> None:
    # The journal's last entry is this trial both times: the second note must not be
    # skipped as a repeat, since a save read the journal in between.
    experiment = make_experiment(4)
    await save_experiment(experiment)
    for value in range(3):
        experiment.trials[2].run_metadata["n"] = value
        assert await _save_counting(experiment, encoded) == [2]
        assert (await _stored(experiment)).trials[2].run_metadata["n"] == value


async def test_changes_of_several_trials_are_all_stored(store: str, encoded: list[int]) -> None:
    experiment = make_experiment(10)
    await save_experiment(experiment)
    experiment.trials[7].arm.parameters["x2"] = 0.5
    experiment.trials[3].run_metadata["a"] = 1
    experiment.trials[7].run_metadata["b"] = 2
    experiment.trials[3].run_metadata["a"] = 3
    assert await _save_counting(experiment, encoded) == [3, 7]
    assert await _stored(experiment) == experiment


async def test_a_runner_shared_by_two_trials_is_stored_in_both(
    store: str, encoded: list[int], config: SQAConfig
) -> None:
    experiment = make_experiment(5)
    runner = CustomRunner("https://shared", retries=1)
    experiment.trials[1].runner = runner
    experiment.trials[3].runner = runner
    await save_experiment(experiment, config)
    runner.retries = 4
    assert await _save_counting(experiment, encoded, config) == [1, 3]
    stored = await _stored(experiment, config)
    assert stored == experiment
    assert [stored.trials[i].runner.retries for i in (1, 3)] == [4, 4]  # type: ignore[union-attr]


async def test_a_search_space_shared_by_two_generator_runs_is_stored_in_both(
    store: str, encoded: list[int]
) -> None:
    experiment = make_experiment(4)
    space = experiment.search_space
    for index in (0, 2):
        experiment.trials[index].generator_run.search_space = space  # type: ignore[union-attr]
    await save_experiment(experiment)
    space.parameter_constraints.pop()
    assert await _save_counting(experiment, encoded) == [0, 2]
    assert await _stored(experiment) == experiment


async def test_a_model_object_added_after_the_save_reports_its_changes(
    store: str, encoded: list[int], config: SQAConfig
) -> None:
    experiment = make_experiment(4)
    await save_experiment(experiment, config)
    runner = CustomRunner("https://late", retries=1)
    experiment.trials[1].runner = runner
    assert await _save_counting(experiment, encoded, config) == [1]
    runner.endpoint = "https://later"
    assert await _save_counting(experiment, encoded, config) == [1]
    assert await _stored(experiment, config) == experiment


async def test_a_change_made_while_a_save_writes_is_stored_by_the_next_save(
    store: str, encoded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = make_experiment(5)
    await save_experiment(experiment)
    original = save_module.execute_plan

    async def execute_then_change(*args: Any, **kwargs: Any) -> Any:
        # Trial 3 was not encoded by this save (and is armed): only the journal knows.
        experiment.trials[3].run_metadata["during"] = True
        return await original(*args, **kwargs)

    monkeypatch.setattr(save_module, "execute_plan", execute_then_change)
    experiment.trials[1].run_metadata["before"] = True
    assert await _save_counting(experiment, encoded) == [1]
    monkeypatch.setattr(save_module, "execute_plan", original)
    assert await _save_counting(experiment, encoded) == [3]
    assert await _stored(experiment) == experiment


async def test_a_change_made_while_the_first_save_writes_is_stored_by_the_next_save(
    store: str, encoded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = make_experiment(5)
    original = save_module.execute_plan

    async def execute_then_change(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(save_module, "execute_plan", original)
        experiment.trials[4].arm.parameters["x1"] = 0.01
        return await original(*args, **kwargs)

    monkeypatch.setattr(save_module, "execute_plan", execute_then_change)
    assert await _save_counting(experiment, encoded) == [0, 1, 2, 3, 4]
    assert (await _stored(experiment)).trials[4].arm.parameters["x1"] != 0.01
    assert await _save_counting(experiment, encoded) == [4]
    assert await _stored(experiment) == experiment


async def test_a_trial_saved_alone_and_changed_again_is_stored_by_save_experiment(
    store: str, encoded: list[int]
) -> None:
    experiment = make_experiment(4)
    await save_experiment(experiment)
    experiment.trials[2].run_metadata["a"] = 1
    await save_or_update_trial(experiment, experiment.trials[2])
    experiment.trials[2].run_metadata["a"] = 2
    assert await _save_counting(experiment, encoded) == [2]
    assert await _stored(experiment) == experiment


# --- untracked values: the trial is compared on every save -------------------------------------


@pytest.mark.parametrize(
    ("put", "mutate"),
    [
        (lambda md: md.__setitem__("arr", np.array([1.0, 2.0])), lambda md: md["arr"].fill(9.0)),
        (lambda md: md.__setitem__("arr", np.array([[1, 2]])), lambda md: md["arr"].__iadd__(1)),
        (lambda md: md.__setitem__("s", {1, 2}), lambda md: md["s"].add(3)),
        (
            lambda md: md.__setitem__("nested", {"s": {"a"}}),
            lambda md: md["nested"]["s"].discard("a"),
        ),
    ],
    ids=["numpy array", "numpy 2d", "set", "set nested"],
)
async def test_an_untracked_value_changed_in_place_is_stored(
    store: str, encoded: list[int], put: Change, mutate: Change
) -> None:
    config = _tracking_config()
    experiment = make_experiment(4)
    await save_experiment(experiment, config)
    put(experiment.trials[1].run_metadata)
    assert await _save_counting(experiment, encoded, config) == [1]
    assert await _stored(experiment, config) == experiment
    # The trial is untracked now: compared on every save, so an in-place change is found.
    assert await _save_counting(experiment, encoded, config) == [1]
    before = copy.deepcopy(experiment.trials[1].run_metadata)
    mutate(experiment.trials[1].run_metadata)
    assert not values_equal(experiment.trials[1].run_metadata, before)  # a real change
    assert await _save_counting(experiment, encoded, config) == [1]
    assert await _stored(experiment, config) == experiment


async def test_a_trial_is_tracked_again_once_its_untracked_value_is_gone(
    store: str, encoded: list[int]
) -> None:
    config = _tracking_config()
    experiment = make_experiment(4)
    experiment.trials[2].run_metadata["s"] = {1}
    await save_experiment(experiment, config)
    assert await _save_counting(experiment, encoded, config) == [2]
    del experiment.trials[2].run_metadata["s"]
    assert await _save_counting(experiment, encoded, config) == [2]
    assert await _save_counting(experiment, encoded, config) == []
    assert await _stored(experiment, config) == experiment


# --- trials replaced or removed by hand: every trial is compared -------------------------------


def _replacement(experiment: Experiment, index: int) -> Trial:
    """A new Trial object for ``index`` with the same arm parameters (built by hand)."""
    old = experiment.trials[index]
    assert isinstance(old, Trial) and old.arm is not None
    run = GeneratorRun([Arm(dict(old.arm.parameters))], gen_metadata={"replaced": 1})
    new = Trial(experiment, index, run)
    assert new.arm is not None and new.arm.name == old.arm.name
    new.run_metadata = {"replaced": True}
    return new


async def test_a_trial_replaced_by_hand_is_stored_and_then_tracked(
    store: str, encoded: list[int]
) -> None:
    experiment = make_experiment(6)
    await save_experiment(experiment)
    experiment.trials[2] = _replacement(experiment, 2)
    # ``experiment.trials`` notes the replacement: only that trial is compared.
    assert await _save_counting(experiment, encoded) == [2]
    assert await _stored(experiment) == experiment
    # The new object was armed by that save: its later changes take the fast path.
    experiment.trials[2].mark_running()
    assert await _save_counting(experiment, encoded) == [2]
    assert await _stored(experiment) == experiment


async def test_a_trial_replaced_by_a_deep_copy_is_stored(store: str, encoded: list[int]) -> None:
    experiment = make_experiment(4)
    await save_experiment(experiment)
    replacement = copy.deepcopy(experiment.trials[1], {id(experiment): experiment})
    assert replacement.experiment is experiment
    replacement.run_metadata["copied"] = 1
    experiment.trials[1] = replacement
    assert await _save_counting(experiment, encoded) == [1]
    assert await _stored(experiment) == experiment
    replacement.run_metadata["copied"] = 2
    assert 1 in await _save_counting(experiment, encoded)
    assert await _stored(experiment) == experiment


async def test_with_trials_in_a_plain_dict_a_replaced_trial_is_found_by_a_scan(
    store: str, encoded: list[int]
) -> None:
    experiment = make_experiment(5)
    experiment.trials = dict(experiment.trials)  # no longer notes what is put in
    await save_experiment(experiment)
    experiment.trials[3] = _replacement(experiment, 3)
    assert await _save_counting(experiment, encoded) == list(range(5))
    assert await _stored(experiment) == experiment
    experiment.trials[3].mark_running()  # armed by that save: noted by the trial itself
    assert await _save_counting(experiment, encoded) == [3]
    assert await _stored(experiment) == experiment


async def test_a_trial_taken_from_a_loaded_copy_and_changed_later_is_stored(
    store: str, encoded: list[int]
) -> None:
    experiment = make_experiment(4)
    await save_experiment(experiment)
    loaded = await _stored(experiment)
    experiment.trials[2] = loaded.trials[2]  # e.g. to revert a trial to its stored state
    await save_experiment(experiment)  # replaced: every trial compared (and armed)
    experiment.trials[2].run_metadata["later"] = 1
    await save_experiment(experiment)
    assert (await _stored(experiment)).trials[2].run_metadata.get("later") == 1


async def test_a_trial_deleted_by_hand_is_deleted_from_the_database(
    store: str, encoded: list[int]
) -> None:
    experiment = make_experiment(5)
    await save_experiment(experiment)
    removed = experiment.trials.pop(3)
    del experiment.data_by_trial[3]
    for arm in removed.arms:
        del experiment.arms_by_name[arm.name or ""]
    assert await _save_counting(experiment, encoded) == [0, 1, 2, 4]
    stored = await _stored(experiment)
    assert sorted(stored.trials) == [0, 1, 2, 4] and stored == experiment
    assert await _save_counting(experiment, encoded) == []
    experiment.trials[4].run_metadata["after"] = 1
    assert await _save_counting(experiment, encoded) == [4]
    assert await _stored(experiment) == experiment


async def test_trials_reordered_by_hand_are_all_compared(store: str, encoded: list[int]) -> None:
    experiment = make_experiment(4)
    await save_experiment(experiment)
    trials = experiment.trials
    experiment.trials = {i: trials[i] for i in (3, 2, 1, 0)}
    experiment.trials[0].run_metadata["x"] = 1
    assert await _save_counting(experiment, encoded) == [0, 1, 2, 3]
    stored = await _stored(experiment)
    assert stored.trials == dict(sorted(experiment.trials.items()))


# --- the fast path, counted ----------------------------------------------------------------------


async def test_a_re_save_encodes_only_what_changed_at_50_trials(
    store: str, encoded: list[int]
) -> None:
    experiment = make_experiment(50)
    assert await _save_counting(experiment, encoded) == list(range(50))
    assert await _save_counting(experiment, encoded) == []
    experiment.trials[17].run_metadata["changed"] = True
    assert await _save_counting(experiment, encoded) == [17]
    trial = experiment.new_trial(GeneratorRun([Arm({"x1": 0.5, "x2": 0.5})]))
    assert await _save_counting(experiment, encoded) == [trial.index] == [50]
    assert await _save_counting(experiment, encoded) == []
    assert await _stored(experiment) == experiment


async def test_the_first_save_after_a_load_compares_all_then_only_changes(
    store: str, encoded: list[int]
) -> None:
    await save_experiment(make_experiment(50))
    loaded = await load_experiment("demo_experiment")
    loaded.trials[4].arm.parameters["x1"] = 0.4
    assert await _save_counting(loaded, encoded) == list(range(50))
    assert await _save_counting(loaded, encoded) == []
    loaded.trials[9].run_metadata["x"] = 1
    assert await _save_counting(loaded, encoded) == [9]
    assert await load_experiment("demo_experiment") == loaded


def _cut_journal(experiment: Experiment) -> None:
    journal_of(experiment).base += 10**6  # as if compaction had dropped the entries


def _replace_journal(experiment: Experiment) -> None:
    experiment.__dict__[JOURNAL] = Journal()


def _many_changes(experiment: Experiment) -> None:
    for i in range(5000):  # far more entries than twice the trials: the journal is cut back
        experiment.trials[i % 2].run_metadata["i"] = i


@pytest.mark.parametrize(
    "force", [_cut_journal, _replace_journal, _many_changes], ids=["cut", "replaced", "many"]
)
async def test_when_the_journal_cannot_tell_every_trial_is_compared(
    store: str, encoded: list[int], force: Change
) -> None:
    experiment = make_experiment(50)
    await save_experiment(experiment)
    experiment.trials[31].arm.parameters["x2"] = 0.99  # noted before the journal is lost
    force(experiment)
    assert await _save_counting(experiment, encoded) == list(range(50))
    assert await _stored(experiment) == experiment
    # Back on the fast path.
    assert await _save_counting(experiment, encoded) == []
    experiment.trials[8].run_metadata["y"] = 1
    assert await _save_counting(experiment, encoded) == [8]
    assert await _stored(experiment) == experiment


async def test_a_save_under_another_config_compares_every_trial(
    store: str, encoded: list[int]
) -> None:
    experiment = make_experiment(6)
    await save_experiment(experiment)
    assert await _save_counting(experiment, encoded) == []
    config = _tracking_config()
    experiment.trials[1].run_metadata["x"] = 1
    assert await _save_counting(experiment, encoded, config) == list(range(6))
    assert await _save_counting(experiment, encoded, config) == []
    assert await _stored(experiment, config) == experiment


# --- two databases, copies -----------------------------------------------------------------------


async def test_an_experiment_saved_to_two_databases_gets_changes_stored_in_both(
    store: str, encoded: list[int], tmp_path: Any
) -> None:
    other = f"sqlite+aiosqlite:///{tmp_path}/other.db"
    experiment = make_experiment(6)

    async def save_to(url: str) -> list[int]:
        db.init_engine_and_session_factory(url=url)
        return await _save_counting(experiment, encoded)

    async def stored_in(url: str) -> Experiment:
        db.init_engine_and_session_factory(url=url)
        return await _stored(experiment)

    db.init_engine_and_session_factory(url=other)
    await db.create_all_tables()
    assert await save_to(store) == list(range(6))
    assert await save_to(other) == list(range(6))
    experiment.trials[2].run_metadata["a"] = 1
    assert await save_to(store) == [2]
    experiment.trials[2].run_metadata["a"] = 2  # the same trial again: noted again
    assert await save_to(other) == [2]
    assert await save_to(store) == [2]
    experiment.trials[5].arm.parameters["x1"] = 0.05
    assert await save_to(other) == [5]
    trial = experiment.new_trial(GeneratorRun([Arm({"x1": 0.1})]))
    assert await save_to(store) == [5, trial.index]
    assert await save_to(other) == [trial.index]
    assert await stored_in(store) == experiment
    assert await stored_in(other) == experiment
    db.init_engine_and_session_factory(url=store)


async def test_a_deep_copy_of_a_saved_experiment_saved_to_another_database_stores_changes(
    store: str, encoded: list[int], tmp_path: Any
) -> None:
    other = f"sqlite+aiosqlite:///{tmp_path}/other.db"
    experiment = make_experiment(5)
    await save_experiment(experiment)
    twin = copy.deepcopy(experiment)
    twin.trials[1].run_metadata["twin"] = 1
    db.init_engine_and_session_factory(url=other)
    await db.create_all_tables()
    await save_experiment(twin)
    twin.trials[3].arm.parameters["x1"] = 0.3  # an in-place change of the copy
    await save_experiment(twin)
    assert await _stored(twin) == twin
    db.init_engine_and_session_factory(url=store)
    # The original is untouched, and its own changes are still tracked.
    assert await _stored(experiment) == experiment
    experiment.trials[0].run_metadata["original"] = 1
    assert await _save_counting(experiment, encoded) == [0]
    assert await _stored(experiment) == experiment


async def test_a_deep_copy_of_a_saved_experiment_saved_under_a_new_name_is_a_new_experiment(
    store: str,
) -> None:
    experiment = make_experiment(4, name="original")
    await save_experiment(experiment)
    twin = copy.deepcopy(experiment)
    twin.name = "twin"
    twin.trials[1].run_metadata["twin"] = 1
    twin.trials[2].arm.parameters["x1"] = 0.2
    await save_experiment(twin)
    assert await load_experiment("twin") == twin
    assert await load_experiment("original") == experiment


# --- changes that were once lost (regression tests) ----------------------------------------------


async def test_deleting_an_attribute_that_falls_back_to_a_class_default_is_stored(
    store: str,
) -> None:
    experiment = make_batch_experiment()
    await save_experiment(experiment)
    struct = _batch(experiment).generator_run_structs[1]
    assert struct.weight == 0.5
    del struct.weight
    assert struct.weight == 1.0  # the dataclass default
    await save_experiment(experiment)
    # (the live struct lacks the instance attribute, so compare the stored value itself)
    assert _batch(await _stored(experiment)).generator_run_structs[1].weight == 1.0


async def test_a_status_quo_change_apart_from_a_batch_trial_s_is_refused_by_every_save(
    store: str,
) -> None:
    experiment = make_experiment(2, name="status_quo_experiment")
    experiment.status_quo = Arm({**experiment.trials[0].arm.parameters, "x1": 0.25})
    batch = experiment.new_batch_trial(GeneratorRun([Arm({**experiment.status_quo.parameters})]))
    batch.set_status_quo_with_weight(experiment.status_quo, 0.25)
    await save_experiment(experiment)
    loaded = await load_experiment("status_quo_experiment")
    assert loaded.status_quo is not loaded.trials[2].status_quo
    await save_experiment(loaded)  # the journal is known from here on
    loaded.status_quo.parameters["x1"] = 0.3
    with pytest.raises(SQAEncodeError, match="arm name 'status_quo' stands for arms"):
        await save_experiment(loaded)  # refused, as by the first save after a load
    # What is stored still loads, as it was.
    assert (await load_experiment("status_quo_experiment")).status_quo.parameters["x1"] == 0.25


async def test_clearing_a_generator_run_s_only_blob_is_stored(store: str) -> None:
    experiment = make_experiment(3)  # gen_metadata is each run's only non-None blob
    await save_experiment(experiment)
    experiment.trials[1].generator_run.gen_metadata = None  # type: ignore[union-attr]
    await save_experiment(experiment)
    assert (await _stored(experiment)).trials[1].generator_run.gen_metadata is None
