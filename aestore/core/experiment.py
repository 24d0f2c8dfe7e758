"""The experiment: search space, objectives, trials and the data attached to them."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar

from aestore.core.arm import Arm
from aestore.core.base import Base, values_equal
from aestore.core.base_trial import BaseTrial, TrialStatus
from aestore.core.batch_trial import BatchTrial
from aestore.core.data import Data
from aestore.core.generator_run import GeneratorRun, _type_name
from aestore.core.journal import TrialsDict, note_change
from aestore.core.metric import Metric
from aestore.core.optimization_config import OptimizationConfig
from aestore.core.runner import Runner
from aestore.core.search_space import SearchSpace
from aestore.core.trial import Trial
from aestore.exceptions import DuplicateNameError, ModelError, UnknownTrialError

__all__ = ["Experiment"]


def held_arms(trial: BaseTrial) -> list[Arm]:
    """Every arm object a trial holds, as stored: its generator runs' arms (and a batch
    trial's status quo), copies under one name included (``trial.arms`` lists one per name).

    Example:
        >>> from aestore.samples import make_batch_experiment
        >>> [arm.name for arm in held_arms(make_batch_experiment().trials[0])][-1]
        'status_quo'
    """
    arms = [arm for run in trial.generator_runs for arm in run.arms]
    status_quo = getattr(trial, "status_quo", None)
    if status_quo is not None:
        arms.append(status_quo)
    return arms


class Experiment(Base):
    """An adaptive experiment: what is searched, what is optimised, and every trial run.

    Example:
        >>> from aestore.core.parameter import RangeParameter, ParameterType
        >>> exp = Experiment(SearchSpace([RangeParameter("x", ParameterType.FLOAT, 0, 1)]),
        ...                  name="demo")
        >>> trial = exp.new_trial(GeneratorRun([Arm({"x": 0.5})]))
        >>> trial.arm.name, len(exp.trials)
        ('0_0', 1)
    """

    _repr_fields: ClassVar[tuple[str, ...]] = ("name", "num_trials")
    # Experiment-level state is compared whole on every save: no change tracking here (its
    # trials report their changes to its journal, see ``aestore.core.tracking``).
    _ae_track: ClassVar[bool] = False
    # Nothing to adopt or report: plain attribute sets (Base's would only cost time).
    __setattr__ = object.__setattr__  # type: ignore[assignment]
    __delattr__ = object.__delattr__

    def __init__(
        self,
        search_space: SearchSpace,
        name: str | None = None,
        optimization_config: OptimizationConfig | None = None,
        tracking_metrics: Sequence[Metric] | None = None,
        runner: Runner | None = None,
        status_quo: Arm | None = None,
        description: str | None = None,
        is_test: bool = False,
        experiment_type: str | Enum | None = None,
        properties: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(search_space, SearchSpace):
            raise ModelError(f"Experiment needs a SearchSpace, got {type(search_space).__name__}.")
        self.name = name
        self.search_space = search_space
        self.optimization_config = optimization_config
        self.runner = runner
        self.description = description
        self.is_test = is_test
        self._experiment_type = _type_name(experiment_type)
        self.properties: dict[str, Any] = dict(properties or {})
        self.time_created: datetime = datetime.now(UTC)
        # A dict that notes every trial put in or taken out (see ``aestore.core.tracking``).
        self.trials: dict[int, BaseTrial] = TrialsDict(self)
        self._next_index_hint: tuple[int, int] | None = None  # (len(trials), next index)
        # Data attached per trial: {trial_index: {attach timestamp (µs since epoch): Data}}.
        self.data_by_trial: dict[int, dict[int, Data]] = {}
        self.arms_by_name: dict[str, Arm] = {}
        # Built on first need (an unnamed arm to name): decoders restore named arms only and
        # skip hashing every arm's parameters.
        self._arms_by_signature: dict[str, Arm] | None = None
        self.tracking_metrics: dict[str, Metric] = {}
        for metric in tracking_metrics or ():
            self.add_tracking_metric(metric)
        self._status_quo: Arm | None = None
        if status_quo is not None:
            self.status_quo = status_quo

    # --- plain attributes --------------------------------------------------------------------

    @property
    def experiment_type(self) -> str | None:
        """The experiment's type as a name, or None."""
        return self._experiment_type

    @experiment_type.setter
    def experiment_type(self, value: str | Enum | None) -> None:
        self._experiment_type = _type_name(value)

    @property
    def num_trials(self) -> int:
        """How many trials the experiment has."""
        return len(self.trials)

    @property
    def status_quo(self) -> Arm | None:
        """The control arm, named ``"status_quo"`` unless it already had a name."""
        return self._status_quo

    @status_quo.setter
    def status_quo(self, arm: Arm | None) -> None:
        if arm is not None:
            self._name_and_store_arms([arm], trial_index=None, default_name="status_quo")
        self._status_quo = arm

    # --- metrics -----------------------------------------------------------------------------

    @property
    def metrics(self) -> dict[str, Metric]:
        """Every metric: the optimization config's, then the tracking metrics."""
        found: dict[str, Metric] = {}
        if self.optimization_config is not None:
            found.update(self.optimization_config.metrics)
        for name, metric in self.tracking_metrics.items():
            found.setdefault(name, metric)
        return found

    def add_tracking_metric(self, metric: Metric) -> Experiment:
        """Track a metric that is not part of the optimization config."""
        if metric.name in self.tracking_metrics:
            raise DuplicateNameError("tracking metric", metric.name, f"experiment {self.name!r}")
        self.tracking_metrics[metric.name] = metric
        return self

    # --- trials ------------------------------------------------------------------------------

    def _next_trial_index(self) -> int:
        # max() over every trial made each new_trial() O(n), building n trials O(n^2). The hint
        # holds only while the last trial added is still the one new_trial() added last (the
        # trials were not edited by hand, e.g. by a storage loader); otherwise compute max().
        hint = getattr(self, "_next_index_hint", None)
        if (
            hint is not None
            and hint[0] == len(self.trials)
            and next(reversed(self.trials)) == hint[1] - 1
            and hint[1] not in self.trials
        ):
            return hint[1]
        return max(self.trials) + 1 if self.trials else 0

    def _add_trial(self, trial: BaseTrial) -> None:
        self.trials[trial.index] = trial
        note_change(self, trial.index)
        self._next_index_hint = (len(self.trials), trial.index + 1)

    def new_trial(
        self,
        generator_run: GeneratorRun | None = None,
        trial_type: str | None = None,
        ttl_seconds: int | None = None,
    ) -> Trial:
        """Create a single-arm trial with the next index.

        Example:
            >>> # trial = experiment.new_trial(GeneratorRun([Arm({"x": 0.2})]))
        """
        trial = Trial(self, self._next_trial_index(), None, trial_type, ttl_seconds)
        if generator_run is not None:
            trial.add_generator_run(generator_run)
        self._add_trial(trial)
        return trial

    def new_batch_trial(
        self,
        generator_run: GeneratorRun | None = None,
        trial_type: str | None = None,
        ttl_seconds: int | None = None,
    ) -> BatchTrial:
        """Create a batch trial with the next index.

        Example:
            >>> # batch = experiment.new_batch_trial(GeneratorRun([Arm({"x": .1}), Arm({"x": .2})]))
        """
        trial = BatchTrial(self, self._next_trial_index(), None, trial_type, ttl_seconds)
        if generator_run is not None:
            trial.add_generator_run(generator_run)
        self._add_trial(trial)
        return trial

    def trials_by_status(self, status: TrialStatus) -> list[BaseTrial]:
        """Trials currently in ``status``."""
        return [t for t in self.trials.values() if t.status is status]

    def _name_and_store_arms(
        self,
        arms: Iterable[Arm],
        trial_index: int | None,
        first_number: int = 0,
        default_name: str | None = None,
    ) -> None:
        """Name unnamed arms (reusing the name of an equal known arm) and index them by name.

        All or nothing: when one arm's name clashes, no arm is renamed or indexed, so a failed
        ``new_trial()`` leaves no trace (its default names stay free for the next attempt).
        """
        named: list[Arm] = []
        added_names: list[str] = []
        added_signatures: list[str] = []
        by_signature = self._arms_by_signature
        try:
            for number, arm in enumerate(arms, start=first_number):
                if not arm.has_name:
                    if by_signature is None:
                        by_signature = self._signature_index()
                    known = by_signature.get(arm.signature)
                    if known is not None and values_equal(known.parameters, arm.parameters):
                        arm.name = known.name  # type: ignore[assignment]
                    else:
                        arm.name = default_name or f"{trial_index}_{number}"
                    named.append(arm)
                name = arm.name
                assert name is not None
                existing = self.arms_by_name.get(name)
                if existing is None:
                    self.arms_by_name[name] = arm
                    added_names.append(name)
                elif existing is not arm and not values_equal(existing.parameters, arm.parameters):
                    raise ModelError(
                        f"Arm name {name!r} is already used by an arm with other parameters "
                        f"in experiment {self.name!r}."
                    )
                if by_signature is not None:
                    signature = arm.signature
                    if signature not in by_signature:
                        by_signature[signature] = arm
                        added_signatures.append(signature)
        except BaseException:
            for arm in named:
                arm._name = None
            for name in added_names:
                del self.arms_by_name[name]
            for signature in added_signatures:
                assert by_signature is not None
                del by_signature[signature]
            raise

    def _signature_index(self) -> dict[str, Arm]:
        """Known arms by parameter signature (the first arm of each), built once."""
        if self._arms_by_signature is None:
            index: dict[str, Arm] = {}
            for arm in self.arms_by_name.values():
                index.setdefault(arm.signature, arm)
            self._arms_by_signature = index
        return self._arms_by_signature

    # --- data --------------------------------------------------------------------------------

    def attach_data(self, data: Data) -> int:
        """Attach observations; returns the attach time stamp (µs since the epoch).

        Earlier attachments are kept: :meth:`lookup_data` returns the latest per trial.

        Example:
            >>> # ts = experiment.attach_data(Data([{"trial_index": 0, "arm_name": "0_0",
            >>> #      "metric_name": "m", "mean": 1.0, "sem": 0.1}]))
        """
        if not isinstance(data, Data):
            raise ModelError(f"attach_data takes a Data object, got {type(data).__name__}.")
        for trial_index in data.trial_indices:
            if trial_index not in self.trials:
                raise UnknownTrialError(self.name, trial_index)
        parts = data.split_by_trial()
        # One stamp for the whole attach, later than every earlier attach of these trials even
        # within one microsecond or when the wall clock steps back: "latest" is the newest.
        timestamp = time.time_ns() // 1000
        for trial_index in parts:
            history = self.data_by_trial.get(trial_index)
            if history:
                timestamp = max(timestamp, max(history) + 1)
        for trial_index, part in parts.items():
            self.data_by_trial.setdefault(trial_index, {})[timestamp] = part
            note_change(self, trial_index)
        return timestamp

    def lookup_data(self, trial_indices: Iterable[int] | None = None) -> Data:
        """The latest data attached for each trial (all trials when ``trial_indices`` is None).

        Example:
            >>> # experiment.lookup_data([0]).to_records()
        """
        indices = self.data_by_trial.keys() if trial_indices is None else trial_indices
        parts = []
        for index in indices:
            history = self.data_by_trial.get(index)
            if history:
                parts.append(history[max(history)])
        return Data.concat(parts)

    def lookup_data_for_trial(self, trial_index: int) -> tuple[Data, int | None]:
        """The latest data for one trial and its attach time stamp (None when there is none)."""
        history = self.data_by_trial.get(trial_index)
        if not history:
            return Data(), None
        stamp = max(history)
        return history[stamp], stamp

    def data_without_trial(self) -> list[int]:
        """Indices in ``data_by_trial`` that ``trials`` does not have (sorted; usually none).

        Data of a trial removed from ``trials`` by hand: the stores refuse to save it (a
        file or rows holding it could not be loaded), so remove it with the trial.

        Example:
            >>> from aestore.samples import make_experiment
            >>> exp = make_experiment(3)
            >>> del exp.trials[1]
            >>> exp.data_without_trial()
            [1]
        """
        data_by_trial = self.data_by_trial
        if data_by_trial.keys() <= self.trials.keys():
            return []
        return sorted(data_by_trial.keys() - self.trials.keys())

    def arm_name_conflict(
        self, names: Iterable[str | None] | None = None
    ) -> tuple[str | None, str, str] | None:
        """The first arm name (of ``names``, default all) that stands for two sets of
        parameters among the arms the experiment holds (its status quo, its trials' arms) and
        ``arms_by_name``: ``(name, where, where else)``; None when every name is consistent. An
        arm held without a name is ``(None, where, "")``.

        Happens when an arm's parameters are changed in place, or an arm is replaced in a
        generator run, after it was named, while an equal copy of it sits elsewhere (every
        load makes such copies). The stores refuse to save such an experiment: one arm per
        name is stored, so it could not be loaded back as it is.

        Example:
            >>> from aestore.samples import make_experiment
            >>> exp = make_experiment(2)
            >>> exp.arm_name_conflict() is None
            True
            >>> exp.trials[1].generator_run.arms[0] = Arm({"x1": 0.5}, name="0_0")
            >>> exp.arm_name_conflict()
            ('0_0', 'trial 1', 'experiment.arms_by_name')
        """
        wanted = None if names is None else set(names)
        known = self.arms_by_name.get
        first_seen: dict[str, tuple[Arm, str]] = {}

        def clash(arm: Arm, where: str) -> tuple[str | None, str, str] | None:
            name = arm._name
            if wanted is not None and name not in wanted:
                return None
            if name is None:
                return (None, where, "")
            reference = known(name)
            if reference is arm:
                return None
            other = "experiment.arms_by_name"
            if reference is None:
                reference, other = first_seen.setdefault(name, (arm, where))
            if reference is arm or values_equal(reference.parameters, arm.parameters):
                return None
            return (name, where, other)

        if self.status_quo is not None:
            found = clash(self.status_quo, "the experiment's status quo")
            if found is not None:
                return found
        for index, trial in self.trials.items():
            if type(trial) is Trial:  # (the common case, without building a list)
                run = trial.generator_run
                arms: Iterable[Arm] = () if run is None else run.arms
            else:
                arms = held_arms(trial)
            for arm in arms:
                if wanted is not None and arm._name not in wanted:
                    continue
                found = clash(arm, f"trial {index}")
                if found is not None:
                    return found
        return None

    # --- equality ----------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        # A copy (deepcopy, pickle) is a new object: it doesn't inherit what the SQL store
        # remembers having stored for this one (saving it would otherwise update, or rename,
        # the original's stored experiment). Load the stored experiment to get one that has.
        state = super().__getstate__()
        state.pop("_sqa_bookkeeping", None)
        return state

    # Caches derived from trials and arms, not state of their own.
    _eq_exclude: ClassVar[frozenset[str]] = frozenset(
        {"_arms_by_signature", "_next_index_hint", "_sqa_bookkeeping"}
    )
