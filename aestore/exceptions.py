"""Every error aestore raises, in one place.

Each error carries the object it is about (a file, an experiment, a trial, a class) as
attributes, and its message says what to do about it. Backend exceptions (``OSError``,
``orjson.JSONDecodeError``, ``sqlalchemy.exc.*``) are translated at the storage boundary with
``raise ... from``.

The tree::

    AestoreError
    ├── ModelError (ValueError)                 invalid model construction or use
    │   ├── IllegalStatusTransitionError        e.g. mark_completed() on a CANDIDATE trial
    │   ├── UnknownTrialError                   data or lookups for a trial the experiment lacks
    │   └── DuplicateNameError                  two parameters / arms / metrics with one name
    ├── RegistryError (TypeError)               class registration problems
    │   └── UnregisteredClassError              saving an object of a class no registry knows
    ├── JSONStoreError
    │   ├── JSONEncodeError (TypeError)         an object cannot be encoded
    │   ├── JSONDecodeError (ValueError)        a document cannot be decoded (path inside it)
    │   │   └── UnsupportedFormatVersionError   a file written by a newer aestore
    │   ├── JSONFileNotFoundError (FileNotFoundError)
    │   └── JSONStoreIOError (OSError)          a read or write failed (disk full, permissions)
    └── SQAStoreError
        ├── EngineNotInitializedError           save/load before init_engine_and_session_factory
        ├── DatabaseConnectionError             the database cannot be reached (password masked)
        ├── TablesMissingError                  run `aestore init-db`
        ├── SQAConfigError (ValueError)         a bad SQAConfig, e.g. an enum with no members
        ├── SQAEncodeError (ValueError)         an object cannot be stored
        ├── SQADecodeError (ValueError)         a stored row cannot be read back
        ├── ExperimentNotFoundError (LookupError)
        ├── ExperimentExistsError               name taken by a different experiment
        └── ConcurrentModificationError         a write based on a stale copy
"""

from __future__ import annotations

import os
from typing import Any

__all__ = [
    "AestoreError",
    "ConcurrentModificationError",
    "DatabaseConnectionError",
    "DuplicateNameError",
    "EngineNotInitializedError",
    "ExperimentExistsError",
    "ExperimentNotFoundError",
    "IllegalStatusTransitionError",
    "JSONDecodeError",
    "JSONEncodeError",
    "JSONFileNotFoundError",
    "JSONStoreError",
    "JSONStoreIOError",
    "ModelError",
    "RegistryError",
    "SQAConfigError",
    "SQADecodeError",
    "SQAEncodeError",
    "SQAStoreError",
    "TablesMissingError",
    "UnknownTrialError",
    "UnregisteredClassError",
    "UnsupportedFormatVersionError",
]


class AestoreError(Exception):
    """Root of every error aestore raises.

    Example:
        >>> try:
        ...     raise ModelError("bad bounds")
        ... except AestoreError as err:
        ...     str(err)
        'bad bounds'
    """


# --- the model -----------------------------------------------------------------------------


class ModelError(AestoreError, ValueError):
    """An experiment object was built or used in a way that cannot be valid."""


class IllegalStatusTransitionError(ModelError):
    """A trial was asked to move to a status it cannot reach from its current one."""

    def __init__(self, trial_index: int, current: str, target: str, allowed_from: str) -> None:
        self.trial_index = trial_index
        self.current = current
        self.target = target
        super().__init__(
            f"Trial {trial_index} is {current}; it can become {target} only from {allowed_from}."
        )


class UnknownTrialError(ModelError, LookupError):
    """Data or a lookup refers to a trial index the experiment does not have."""

    def __init__(self, experiment_name: str | None, trial_index: int) -> None:
        self.experiment_name = experiment_name
        self.trial_index = trial_index
        super().__init__(
            f"Experiment {experiment_name!r} has no trial with index {trial_index}; "
            "create it with experiment.new_trial() before attaching data for it."
        )


class DuplicateNameError(ModelError):
    """Two objects that must have distinct names share one."""

    def __init__(self, kind: str, name: str, where: str = "") -> None:
        self.kind = kind
        self.name = name
        suffix = f" in {where}" if where else ""
        super().__init__(f"Duplicate {kind} name {name!r}{suffix}.")


# --- registries ----------------------------------------------------------------------------


class RegistryError(AestoreError, TypeError):
    """A class registry was given something it cannot hold."""


class UnregisteredClassError(RegistryError):
    """An object's class is in no registry, so it cannot be stored."""

    def __init__(self, cls: type, registries: str, hint: str = "") -> None:
        self.cls = cls
        qualname = f"{cls.__module__}.{cls.__qualname__}"
        message = f"Class {qualname} is not registered; add it to {registries}."
        if hint:
            message = f"{message} {hint}"
        super().__init__(message)


# --- the JSON store ------------------------------------------------------------------------


class JSONStoreError(AestoreError):
    """An error of the JSON file store."""


class JSONEncodeError(JSONStoreError, TypeError):
    """An object could not be encoded to JSON.

    ``cls`` is the offending class where there is one, ``path`` the place inside the
    document (``trials.3.generator_run.arms.0``) where it is known.
    """

    def __init__(self, message: str, *, cls: type | None = None, path: str | None = None) -> None:
        self.cls = cls
        self.path = path
        super().__init__(message)


class JSONDecodeError(JSONStoreError, ValueError):
    """A JSON document could not be decoded into experiment objects.

    ``filepath`` is the file (when reading one) and ``path`` the place inside the document.
    """

    def __init__(
        self,
        message: str,
        *,
        filepath: str | os.PathLike[str] | None = None,
        path: str | None = None,
    ) -> None:
        self.filepath = None if filepath is None else os.fspath(filepath)
        self.path = path
        where = [f"at {path}"] if path else []
        if self.filepath is not None:
            where.append(f"in file {self.filepath}")
        super().__init__(f"{message} ({', '.join(where)})" if where else message)


class UnsupportedFormatVersionError(JSONDecodeError):
    """The file was written in a format version newer than this aestore can read."""


class JSONFileNotFoundError(JSONStoreError, FileNotFoundError):
    """The JSON file to load does not exist."""

    def __init__(self, filepath: str | os.PathLike[str]) -> None:
        self.filepath = os.fspath(filepath)
        super().__init__(f"No experiment file at {self.filepath!r}.")

    def __str__(self) -> str:
        return str(self.args[0])


class JSONStoreIOError(JSONStoreError, OSError):
    """Reading or writing a JSON file failed at the operating-system level."""

    def __init__(self, message: str, filepath: str | os.PathLike[str]) -> None:
        self.filepath = os.fspath(filepath)
        super().__init__(f"{message} (file {self.filepath})")

    def __str__(self) -> str:
        return str(self.args[0])


# --- the SQL store -------------------------------------------------------------------------


class SQAStoreError(AestoreError):
    """An error of the SQL store."""


class EngineNotInitializedError(SQAStoreError):
    """A save or load ran before ``init_engine_and_session_factory``."""

    def __init__(self) -> None:
        super().__init__(
            "No database engine: call aestore.storage.sqa_store.db."
            "init_engine_and_session_factory(url=...) first."
        )


class DatabaseConnectionError(SQAStoreError):
    """The database could not be reached. The message never contains the password."""

    def __init__(self, message: str, *, host: str | None = None, database: str | None = None):
        self.host = host
        self.database = database
        super().__init__(message)


class TablesMissingError(SQAStoreError):
    """The database has no aestore tables yet."""

    def __init__(self, database: str | None = None, detail: str = "") -> None:
        self.database = database
        where = f" in database {database!r}" if database else ""
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"aestore's tables are missing{where}{extra}; create them with "
            "`aestore init-db --url URL` or `await create_all_tables()`."
        )


class SQAConfigError(SQAStoreError, ValueError):
    """An ``SQAConfig`` (or one of its registries or enums) is invalid."""


class SQAEncodeError(SQAStoreError, ValueError):
    """An experiment object could not be converted to rows."""


class SQADecodeError(SQAStoreError, ValueError):
    """Stored rows could not be converted back to experiment objects."""


class ExperimentNotFoundError(SQAStoreError, LookupError):
    """No stored experiment has the given name."""

    def __init__(self, experiment_name: str) -> None:
        self.experiment_name = experiment_name
        super().__init__(f"No experiment named {experiment_name!r} is stored.")


class ExperimentExistsError(SQAStoreError):
    """A new experiment was saved under a name a different stored experiment already has."""

    def __init__(self, experiment_name: str) -> None:
        self.experiment_name = experiment_name
        super().__init__(
            f"An experiment named {experiment_name!r} is already stored and this is a different "
            "experiment; choose another name, or load the stored one and update it."
        )


class ConcurrentModificationError(SQAStoreError):
    """A write was based on a stale copy: someone else changed the stored state first."""

    def __init__(
        self, experiment_name: str | None, message: str, *, trial_index: int | None = None
    ) -> None:
        self.experiment_name = experiment_name
        self.trial_index = trial_index
        where = f"experiment {experiment_name!r}"
        if trial_index is not None:
            where += f", trial {trial_index}"
        super().__init__(
            f"Concurrent modification of {where}: {message} Reload the experiment with "
            "load_experiment() and apply the change again."
        )


def describe(obj: Any) -> str:
    """Name an object's class for error messages (``module.QualName``).

    Example:
        >>> describe(1.5)
        'builtins.float'
    """
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def data_without_trial_message(experiment_name: str | None, indices: list[int]) -> str:
    """Why an experiment holding data of removed trials is not saved, and what to do.

    Example:
        >>> print(data_without_trial_message("exp", [3]))
        Experiment 'exp' has data attached for trial 3, which is not in experiment.trials; nothing was saved. Remove the data with the trial (del experiment.data_by_trial[3]) or put the trial back.
    """  # noqa: E501
    which = ", ".join(map(str, indices[:5])) + (", ..." if len(indices) > 5 else "")
    trials = "trial" if len(indices) == 1 else "trials"
    return (
        f"Experiment {experiment_name!r} has data attached for {trials} {which}, which "
        f"{'is' if len(indices) == 1 else 'are'} not in experiment.trials; nothing was saved. "
        f"Remove the data with the trial (del experiment.data_by_trial[{indices[0]}]) or put "
        "the trial back."
    )


def arm_name_conflict_message(
    experiment_name: str | None, arm_name: str, holder: str, other_holder: str
) -> str:
    """Why an experiment whose arm name stands for two parameter sets is not saved.

    Example:
        >>> print(arm_name_conflict_message("exp", "0_0", "trial 3", "experiment.arms_by_name"))
        Experiment 'exp' was not saved: the arm name '0_0' stands for arms with different parameters in trial 3 and in experiment.arms_by_name (an arm's parameters were changed in place, or an arm was replaced, after it was named). A stored experiment has one arm per name: one of them would be lost, or the experiment would not load. Put the parameters back, or add the changed arm as a new Arm with a name of its own.
    """  # noqa: E501
    return (
        f"Experiment {experiment_name!r} was not saved: the arm name {arm_name!r} stands for "
        f"arms with different parameters in {holder} and in {other_holder} (an arm's "
        "parameters were changed in place, or an arm was replaced, after it was named). A "
        "stored experiment has one arm per name: one of them would be lost, or the experiment "
        "would not load. Put the parameters back, or add the changed arm as a new Arm with a "
        "name of its own."
    )


def unnamed_arm_message(experiment_name: str | None, holder: str) -> str:
    """Why an experiment holding an arm without a name in a trial is not saved.

    Example:
        >>> print(unnamed_arm_message("exp", "trial 2"))
        Experiment 'exp' was not saved: trial 2 holds an arm without a name (put into its generator run after the trial was made?); nothing was saved. Give a trial its arms with new_trial(), add_arm() or add_arms_and_weights(), which name them.
    """  # noqa: E501
    return (
        f"Experiment {experiment_name!r} was not saved: {holder} holds an arm without a name "
        "(put into its generator run after the trial was made?); nothing was saved. Give a "
        "trial its arms with new_trial(), add_arm() or add_arms_and_weights(), which name them."
    )


def arm_conflict_message(experiment_name: str | None, conflict: tuple[str | None, str, str]) -> str:
    """The message for what :meth:`~aestore.core.experiment.Experiment.arm_name_conflict`
    found: :func:`unnamed_arm_message` or :func:`arm_name_conflict_message`.

    Example:
        >>> arm_conflict_message("exp", (None, "trial 1", "")).startswith("Experiment 'exp'")
        True
    """
    name, where, other = conflict
    if name is None:
        return unnamed_arm_message(experiment_name, where)
    return arm_name_conflict_message(experiment_name, name, where, other)
