"""Load an experiment from a JSON file without blocking the event loop.

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

import asyncio
import functools
import os
from collections.abc import Mapping

from aestore.core.experiment import Experiment
from aestore.storage.json_store import files
from aestore.storage.json_store.decoder import experiment_from_document
from aestore.storage.json_store.registry import (
    CLASS_DECODER_REGISTRY,
    DECODER_REGISTRY,
    ClassDecoder,
    Decoder,
)

__all__ = ["OFFLOAD_MIN_BYTES", "load_experiment"]

# Documents of at least this many bytes (about 50 trials, ~1.5 ms to decode) are decoded in
# the I/O thread pool; smaller ones inline, where decoding costs less than the hop to a thread.
OFFLOAD_MIN_BYTES = 64 * 1024


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
    decode = functools.partial(
        experiment_from_document,
        document,
        decoder_registry,
        class_decoder_registry,
        filepath=os.fspath(filepath),
    )
    if len(document) < OFFLOAD_MIN_BYTES:
        return decode()
    # Decoding only makes new objects, so a cancelled load need not wait for it to stop.
    return await asyncio.get_running_loop().run_in_executor(files.io_executor(), decode)
