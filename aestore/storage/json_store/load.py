"""Load an experiment from a JSON file without blocking the event loop.

The file is read in the I/O thread pool; the document is decoded on the event loop's own
thread in steps of about a millisecond (:func:`.decoder.experiment_document_steps`), with
the other tasks running between them. (A document whose experiment a user's own decoder
handles cannot be cut into steps: it is decoded in the pool.) Decoding in a thread is no
quicker (the GIL), and measured on 2 vCPUs it was up to ~25% slower at 1,000 trials, most
likely because the memory it fills was last touched by the loop's CPU.

Example:
    >>> import asyncio, os, tempfile
    >>> from aestore.samples import make_experiment
    >>> from aestore.storage.json_store.save import save_experiment
    >>> path = os.path.join(tempfile.mkdtemp(), "demo.json")
    >>> asyncio.run(save_experiment(make_experiment(num_trials=2), path))
    >>> asyncio.run(load_experiment(path)).num_trials
    2
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from aestore._steps import run_steps_on_loop
from aestore.core.experiment import Experiment
from aestore.storage.json_store import files
from aestore.storage.json_store.decoder import experiment_document_steps
from aestore.storage.json_store.registry import (
    CLASS_DECODER_REGISTRY,
    DECODER_REGISTRY,
    ClassDecoder,
    Decoder,
)

__all__ = ["load_experiment"]


async def load_experiment(
    filepath: str | os.PathLike[str],
    decoder_registry: Mapping[str, Decoder] = DECODER_REGISTRY,
    class_decoder_registry: Mapping[str, ClassDecoder] = CLASS_DECODER_REGISTRY,
) -> Experiment:
    """Load the experiment saved in the JSON file ``filepath``.

    Needs no lock: saves replace the file atomically, so a load sees one whole document.

    Raises:
        JSONFileNotFoundError: no file at ``filepath`` (a ``FileNotFoundError``).
        JSONStoreIOError: the file cannot be read (a directory, permissions); ``errno`` is
            the OS's.
        JSONDecodeError: the file is not an experiment document (empty, truncated, not
            JSON, an unregistered class, ...); names the file and the place in it.

    Example:
        >>> import asyncio, os, tempfile
        >>> from aestore.samples import make_experiment
        >>> from aestore.storage.json_store.save import save_experiment
        >>> path = os.path.join(tempfile.mkdtemp(), "experiment.json")
        >>> asyncio.run(save_experiment(make_experiment(num_trials=3), path))
        >>> experiment = asyncio.run(load_experiment(path))
        >>> experiment.name, experiment.num_trials
        ('demo_experiment', 3)
    """
    try:
        document = await files.read_file(files.resolve_path(filepath))
    except OSError as exc:
        raise files.io_error(exc, filepath, "load") from exc
    return await run_steps_on_loop(
        experiment_document_steps(
            document, decoder_registry, class_decoder_registry, filepath=os.fspath(filepath)
        ),
        files.io_executor(),
    )
