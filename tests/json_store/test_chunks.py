"""Big documents are written with their trials in newline-separated chunks, read chunk-wise."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from aestore.core import Experiment
from aestore.samples import make_experiment
from aestore.storage.json_store.chunks import CHUNK_TRIALS, WHOLE_MAX_TRIALS, parse_chunked
from aestore.storage.json_store.decoder import experiment_from_document
from aestore.storage.json_store.encoder import experiment_to_document, object_to_json

BIG = WHOLE_MAX_TRIALS + 7  # more than one piece: chunked
NUM_CHUNKS = -(-BIG // CHUNK_TRIALS)


@pytest.fixture(scope="module")
def big_experiment() -> Experiment:
    return make_experiment(num_trials=BIG, name="chunked")


def test_big_document_is_chunked_and_means_what_the_reference_means(
    big_experiment: Experiment,
) -> None:
    document = experiment_to_document(big_experiment)
    # after "trials":[, between the chunks, before ]
    assert document.count(b"\n") == NUM_CHUNKS + 1
    assert document.replace(b"\n", b"") == orjson.dumps(object_to_json(big_experiment))


def test_chunked_document_is_parsed_chunk_by_chunk_to_the_same_value(
    big_experiment: Experiment,
) -> None:
    document = experiment_to_document(big_experiment)
    assert parse_chunked(document) == orjson.loads(document)
    assert experiment_from_document(document) == big_experiment


@pytest.mark.parametrize("num_trials", [3, WHOLE_MAX_TRIALS], ids=["small", "largest-whole"])
def test_document_up_to_the_threshold_is_one_line(num_trials: int) -> None:
    experiment = make_experiment(num_trials=num_trials)
    document = experiment_to_document(experiment)
    assert b"\n" not in document
    assert parse_chunked(document) is None  # read in one orjson call
    assert experiment_from_document(document) == experiment


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
