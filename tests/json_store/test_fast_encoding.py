"""The fast encoder's shortcuts give the reference's bytes: trials encoded whole (trial,
generator run and arms in one call), tracked or plain containers, big documents encoded in
pieces as they are written."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from aestore.core import Arm, Experiment, Trial
from aestore.core.tracking import TrackedDict, TrackedList
from aestore.exceptions import JSONEncodeError
from aestore.samples import make_batch_experiment, make_experiment
from aestore.storage.json_store import files
from aestore.storage.json_store.chunks import CHUNK_TRIALS, PIECE_TRIALS, chunked_parts
from aestore.storage.json_store.encoder import (
    dumps,
    experiment_document_parts,
    experiment_to_document,
    object_to_json,
)
from aestore.storage.json_store.encoders import (
    arm_to_dict,
    generator_run_to_dict,
    trial_to_dict,
    trial_tree_to_dict,
)
from aestore.storage.json_store.load import load_experiment
from aestore.storage.json_store.registry import DEFAULT_REGISTRY
from aestore.storage.json_store.save import save_experiment
from tests.json_store.conftest import junk_files

BIG = CHUNK_TRIALS + 2 * PIECE_TRIALS + 3  # two chunks, the second cut into pieces


@pytest.fixture(scope="module")
def big_experiment() -> Experiment:
    return make_experiment(num_trials=BIG, name="pieces")


def reference(experiment: Experiment) -> bytes:
    return orjson.dumps(object_to_json(experiment))


def test_trial_tree_is_the_three_encoders_nested() -> None:
    trial = make_experiment(1).trials[0]
    assert isinstance(trial, Trial) and trial.generator_run is not None
    run = trial.generator_run
    expected = {
        **trial_to_dict(trial),
        "generator_run": {
            **generator_run_to_dict(run),
            "arms": [arm_to_dict(arm) for arm in run.arms],
        },
    }
    assert trial_tree_to_dict(trial) == expected


def test_trial_tree_leaves_a_trial_without_generator_run_as_it_is() -> None:
    experiment = make_experiment(0)
    trial = experiment.new_trial()
    assert trial_tree_to_dict(trial)["generator_run"] is None
    assert dumps(experiment) == reference(experiment)


def test_model_holds_tracked_containers() -> None:
    # The premise of the next test: the model's own objects hold tracked containers.
    trial = make_experiment(1).trials[0]
    assert isinstance(trial, Trial) and trial.arm is not None
    assert (type(trial.run_metadata), type(trial.arm.parameters)) == (TrackedDict, TrackedDict)
    assert trial.generator_run is not None and type(trial.generator_run.weights) is TrackedList


@pytest.mark.parametrize("num_trials", [3, BIG])
def test_plain_and_tracked_containers_encode_to_the_same_bytes(num_trials: int) -> None:
    tracked = make_experiment(num_trials, name="same")
    plain = copy.deepcopy(tracked)  # copies hold plain dicts and lists
    trial = plain.trials[0]
    assert isinstance(trial, Trial) and trial.arm is not None
    assert (type(trial.run_metadata), type(trial.arm.parameters)) == (dict, dict)
    assert experiment_to_document(plain) == experiment_to_document(tracked)
    assert experiment_to_document(plain).replace(b"\n", b"") == reference(tracked)


def test_free_form_values_that_need_tags_are_tagged_in_tracked_containers() -> None:
    experiment = make_experiment(BIG)
    trial = experiment.trials[CHUNK_TRIALS + 1]
    assert isinstance(trial, Trial) and trial.arm is not None
    trial.update_run_metadata({"loss": float("nan"), 3: (1, 2)})
    trial.arm.parameters["x1"] = float("inf")
    document = experiment_to_document(experiment)
    assert document.replace(b"\n", b"") == reference(experiment)
    assert b'"x1":{"__type":"float","value":"inf"}' in document


def test_batch_trials_mixed_with_single_arm_trials_match_the_reference() -> None:
    experiment = make_batch_experiment()
    for _ in range(CHUNK_TRIALS + 1):
        experiment.new_trial()
    assert experiment_to_document(experiment).replace(b"\n", b"") == reference(experiment)


def test_a_registry_with_its_own_arm_encoder_is_used_for_arms_in_trials() -> None:
    registry = DEFAULT_REGISTRY.copy()

    def arm_with_note(arm: Arm) -> dict[str, Any]:
        return {**arm_to_dict(arm), "note": "mine"}

    registry.encoders[Arm] = arm_with_note
    experiment = make_experiment(2)
    document = dumps(experiment, registry.encoders, registry.class_encoders)
    assert document.count(b'"note":"mine"') == 2
    assert document == orjson.dumps(
        object_to_json(experiment, registry.encoders, registry.class_encoders)
    )


def test_a_registry_with_its_own_arm_encoder_is_used_in_every_piece(
    big_experiment: Experiment,
) -> None:
    # In pieces, single-arm trials are encoded up front, unless the registry has an encoder
    # of its own for one of the three classes trial_tree_to_dict stands for.
    registry = DEFAULT_REGISTRY.copy()

    def arm_with_note(arm: Arm) -> dict[str, Any]:
        return {**arm_to_dict(arm), "note": "mine"}

    registry.encoders[Arm] = arm_with_note
    document = experiment_to_document(big_experiment, registry.encoders, registry.class_encoders)
    assert document.count(b'"note":"mine"') == BIG
    assert document.replace(b"\n", b"") == orjson.dumps(
        object_to_json(big_experiment, registry.encoders, registry.class_encoders)
    )


# --- in pieces ---------------------------------------------------------------------------------


def test_document_parts_join_to_the_document(big_experiment: Experiment) -> None:
    parts = list(experiment_document_parts(big_experiment))
    # head, chunk separators and pieces of PIECE_TRIALS trials, tail
    assert len(parts) > BIG // PIECE_TRIALS
    assert b"".join(parts) == experiment_to_document(big_experiment)
    assert b"".join(parts).replace(b"\n", b"") == reference(big_experiment)


def test_a_small_document_is_one_part() -> None:
    experiment = make_experiment(3)
    assert list(experiment_document_parts(experiment)) == [experiment_to_document(experiment)]


def test_chunked_parts_of_no_trials_is_an_empty_chunked_array() -> None:
    document = b"".join(chunked_parts({"trials": [], "n": 1}, orjson.dumps))
    assert document == b'{"trials":[\n\n],"n":1}'
    assert orjson.loads(document) == {"trials": [], "n": 1}


def test_an_unencodable_value_in_a_late_piece_raises_with_its_path() -> None:
    experiment = make_experiment(BIG)
    trial = experiment.trials[BIG - 1]
    assert isinstance(trial, Trial)
    trial.update_run_metadata({"bad": object()})
    with pytest.raises(JSONEncodeError) as caught:
        list(experiment_document_parts(experiment))
    assert caught.value.path == f"trials.{BIG - 1}.run_metadata.bad"


async def test_saving_in_pieces_writes_the_document(
    big_experiment: Experiment, tmp_path: Path
) -> None:
    path = tmp_path / "e.json"
    await save_experiment(big_experiment, path)
    assert path.read_bytes() == experiment_to_document(big_experiment)
    assert await load_experiment(path) == big_experiment


async def test_encode_error_while_writing_keeps_the_old_file_and_leaves_no_junk(
    tmp_path: Path,
) -> None:
    path = tmp_path / "e.json"
    path.write_bytes(b"old")
    experiment = make_experiment(BIG)
    trial = experiment.trials[BIG - 1]
    assert isinstance(trial, Trial)
    trial.update_run_metadata({"bad": object()})
    with pytest.raises(JSONEncodeError, match="not in the JSON encoder registry"):
        await save_experiment(experiment, path)
    assert (path.read_bytes(), junk_files(tmp_path, {"e.json"})) == (b"old", [])


async def test_write_atomic_writes_pieces_in_order(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    pieces = [b"x" * 300_000, memoryview(b"[yz]")[1:-1], b"w" * 300_000]
    await files.write_atomic(str(path), lambda: iter(pieces))
    assert path.read_bytes() == b"x" * 300_000 + b"yz" + b"w" * 300_000


async def test_pieces_that_fail_half_way_leave_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_bytes(b"old")

    def pieces() -> Iterator[bytes]:
        yield b"new" * 200_000
        raise ValueError("encoding failed")

    with pytest.raises(ValueError, match="encoding failed"):
        await files.write_atomic(str(path), pieces)
    assert (path.read_bytes(), junk_files(tmp_path, {"e.json"})) == (b"old", [])
    await files.write_atomic(str(path), b"again")  # the lock was released
    assert path.read_bytes() == b"again"


async def test_a_failed_write_closes_the_pieces_at_once(tmp_path: Path) -> None:
    # The encoder holds a GC pause until its generator ends: a write error must end it.
    path = tmp_path / "e.json"
    path.write_bytes(b"old")
    closed = []

    def pieces() -> Iterator[Any]:
        try:
            yield b"new"
            yield 12345  # not bytes: the write fails, with the generator suspended here
            yield b"never"
        finally:
            closed.append(True)

    with pytest.raises(TypeError):
        await files.write_atomic(str(path), pieces)
    assert (closed, path.read_bytes(), junk_files(tmp_path, {"e.json"})) == ([True], b"old", [])
