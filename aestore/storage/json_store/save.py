"""Save an experiment to a JSON file, atomically and without blocking the event loop.

Example:
    >>> import asyncio, os, tempfile
    >>> from aestore.samples import make_experiment
    >>> path = os.path.join(tempfile.mkdtemp(), "experiments", "demo.json")
    >>> asyncio.run(save_experiment(make_experiment(num_trials=2), path))
    >>> os.listdir(os.path.dirname(path))
    ['demo.json']
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

from aestore.core.experiment import Experiment
from aestore.exceptions import JSONEncodeError, describe
from aestore.storage.json_store import files, trial_memo
from aestore.storage.json_store.encoder import experiment_document_parts, experiment_to_document
from aestore.storage.json_store.registry import (
    CLASS_ENCODER_REGISTRY,
    ENCODER_REGISTRY,
    ClassEncoder,
    Encoder,
)

__all__ = ["MEMO_TRIALS", "OFFLOAD_MIN_SIZE", "save_experiment"]

# Experiments with at least this many trials + arms are encoded in the I/O thread pool, as the
# file is written; smaller ones inline, where encoding (well under a millisecond) is cheaper
# than the hop to a thread.
OFFLOAD_MIN_SIZE = 200


# Re-saves reuse what was encoded of trials unchanged since (see .trial_memo), from an
# experiment object's second save on: a one-off save keeps nothing. False: encode every trial
# every time, and forget the memos made before (for code that changes saved trials around
# the model: ``obj.__dict__[...] = ...``, ``heapq`` on a tracked list).
MEMO_TRIALS = True
_SAVED = "_ae_json_saved"  # in the experiment's __dict__: it was saved to JSON before


def _encodes_off_loop(experiment: Experiment) -> bool:
    return experiment.num_trials + len(experiment.arms_by_name) >= OFFLOAD_MIN_SIZE


async def save_experiment(
    experiment: Experiment,
    filepath: str | os.PathLike[str],
    encoder_registry: Mapping[type, Encoder] = ENCODER_REGISTRY,
    class_encoder_registry: Mapping[type, ClassEncoder] = CLASS_ENCODER_REGISTRY,
) -> None:
    """Save ``experiment`` (with its trials and data) to the JSON file ``filepath``.

    To update a saved experiment, save it again to the same path. The file is replaced
    atomically: readers, and a crash or a cancelled save, see the old document or the new
    one, never a mix; no temp file is left behind. Missing folders are created. Saving
    through a symlink updates the file it points to.

    Saves to one file are serialised: in one event loop in call order, across threads and
    processes by a lock on ``<filepath>.lock`` (removed after each save). The document saved
    is the experiment as it is when this save's turn comes; don't change the experiment
    while a save of it is pending, since a large one is encoded in a worker thread.

    From an experiment object's second save on, what was encoded of each single-arm trial is
    kept on the trial and reused while the trial is unchanged (:mod:`.trial_memo`; turn it
    off with ``MEMO_TRIALS = False`` in this module). Changes made through the model are
    always seen; writes around it (``trial.__dict__[...] = ...``) are not.

    Raises:
        JSONEncodeError: an object in the experiment cannot be encoded (e.g. an instance of an
            unregistered class); the file is untouched.
        JSONStoreIOError: the file system refused (disk full, permissions, a directory at
            ``filepath``, a file where a folder should be); ``errno`` is the OS's.

    Example:
        >>> import asyncio, os, tempfile
        >>> from aestore.samples import make_experiment
        >>> path = os.path.join(tempfile.mkdtemp(), "experiment.json")
        >>> experiment = make_experiment(num_trials=3)
        >>> asyncio.run(save_experiment(experiment, path))
        >>> _ = experiment.new_trial()
        >>> asyncio.run(save_experiment(experiment, path))  # update: save again
    """
    if not isinstance(experiment, Experiment):
        raise JSONEncodeError(
            f"save_experiment() takes an Experiment, got {describe(experiment)}.",
            cls=type(experiment),
        )
    path = files.resolve_path(filepath)
    # Encode inside the lock: the last save called is the last written, and it writes the
    # experiment's state at that time, not at the time an earlier save began.
    async with files.path_lock(path):
        if not MEMO_TRIALS:
            trial_memo.forget_all()  # whatever was written around the model meanwhile is seen
        # Prepared here, in the loop's thread: an encoder in a worker must not add keys to
        # the objects. (No trial that may have a memo, e.g. all loaded: no memo at all.)
        memo = (
            MEMO_TRIALS
            and _SAVED in experiment.__dict__
            and trial_memo.prepare(experiment.trials.values())
        )
        document: files.Document
        if _encodes_off_loop(experiment):
            # Encoded in the I/O thread as it is written (the disk stores the first pieces
            # while the next are encoded). write_atomic waits for a cancelled write to stop
            # and removes its temp file, so nothing touches the experiment after this returns
            # and the old file stays.
            document = functools.partial(
                experiment_document_parts,
                experiment,
                encoder_registry,
                class_encoder_registry,
                memo=memo,
            )
        else:
            document = experiment_to_document(
                experiment, encoder_registry, class_encoder_registry, memo=memo
            )
        try:
            await files.write_atomic(path, document)
        except OSError as exc:
            raise files.io_error(exc, filepath, "save") from exc
        experiment.__dict__[_SAVED] = True
