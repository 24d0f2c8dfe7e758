"""Big documents are written with their trials in newline-separated chunks, read chunk-wise."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from aestore.core import Experiment
from aestore.samples import make_experiment
from aestore.storage.json_store.chunks import CHUNK_TRIALS, parse_chunked
from aestore.storage.json_store.decoder import experiment_from_document
from aestore.storage.json_store.encoder import experiment_to_document, object_to_json

BIG = CHUNK_TRIALS * 2 + 7


@pytest.fixture(scope="module")
def big_experiment() -> Experiment:
    return make_experiment(num_trials=BIG, name="chunked")


def test_big_document_is_chunked_and_means_what_the_reference_means(
    big_experiment: Experiment,
) -> None:
    document = experiment_to_document(big_experiment)
    assert document.count(b"\n") == 4  # after "trials":[, between 3 chunks, before ]
    assert document.replace(b"\n", b"") == orjson.dumps(object_to_json(big_experiment))


def test_chunked_document_is_parsed_chunk_by_chunk_to_the_same_value(
    big_experiment: Experiment,
) -> None:
    document = experiment_to_document(big_experiment)
    assert parse_chunked(document) == orjson.loads(document)
    assert experiment_from_document(document) == big_experiment


def test_small_document_is_one_line() -> None:
    small = make_experiment(num_trials=3)
    assert b"\n" not in experiment_to_document(small)


@pytest.mark.parametrize(
    "transform",
    [
        lambda doc: orjson.dumps(orjson.loads(doc), option=orjson.OPT_INDENT_2),
        lambda doc: orjson.dumps(orjson.loads(doc)),
        lambda doc: doc.replace(b",\n", b", \n", 1),
    ],
    ids=["pretty-printed", "one-line", "edited-separator"],
)
def test_other_layouts_of_the_same_document_load_too(
    big_experiment: Experiment, transform: Callable[[bytes], bytes]
) -> None:
    document = transform(experiment_to_document(big_experiment))
    assert experiment_from_document(document) == big_experiment


def test_a_newline_inside_a_string_does_not_confuse_the_chunks() -> None:
    experiment = make_experiment(num_trials=BIG, name="line\nbreak")
    experiment.trials[CHUNK_TRIALS].update_run_metadata({"note": "a,\nb ]\n"})
    document = experiment_to_document(experiment)
    assert experiment_from_document(document) == experiment


def test_a_nested_trials_key_is_not_taken_for_the_chunked_layout() -> None:
    # A hand-made file whose first newline follows another object's "trials":[.
    document = b'{"zzz":{"trials":[\n1\n]},"trials":[]}'
    assert parse_chunked(document) is None
    assert orjson.loads(document) == {"zzz": {"trials": [1]}, "trials": []}
