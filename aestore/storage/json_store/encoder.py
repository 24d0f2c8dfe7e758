"""Encode experiment objects to JSON: a pure-Python reference and the orjson fast path.

:func:`object_to_json` walks an object in Python and returns plain JSON values (dicts, lists,
str, int, float, bool, None). :func:`dumps` produces the same document as
``orjson.dumps(object_to_json(obj))`` in *one* ``orjson.dumps`` call: orjson recurses in C and
calls back into Python (its ``default`` hook) only for registered objects, which the
``class_to_dict`` functions of :mod:`.encoders` turn into shallow dicts.
:func:`experiment_to_document` is :func:`dumps` for a whole experiment file.

Both paths dispatch on the exact class (``type(obj)``) in the encoder registry; an object of
an unregistered class, including a subclass of a registered one, is a
:class:`~aestore.exceptions.JSONEncodeError` that names the class and how to register it.
The SQL store encodes its JSON columns with the same functions.

Example:
    >>> from aestore.samples import make_experiment
    >>> experiment = make_experiment(2)
    >>> dumps(experiment) == orjson.dumps(object_to_json(experiment))
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import orjson

from aestore._gc import gc_paused
from aestore.core import Arm, Experiment, GeneratorRun, Trial
from aestore.exceptions import JSONEncodeError
from aestore.storage.json_store.chunks import CHUNK_TRIALS, chunked_parts
from aestore.storage.json_store.encoders import (
    CLEAN_ENCODERS,
    arm_to_dict,
    experiment_to_dict,
    generator_run_to_dict,
    trial_to_dict,
    trial_tree_to_dict,
)
from aestore.storage.json_store.format import (
    DUMPS_OPTIONS,
    FORMAT_VERSION,
    PLAIN_TYPE,
    TYPE_KEY,
    Deferred,
    Tagged,
    nonfinite_tag,
    to_json_safe,
)
from aestore.storage.json_store.registry import (
    CLASS_ENCODER_REGISTRY,
    ENCODER_REGISTRY,
    ClassEncoder,
    Encoder,
)
from aestore.storage.json_store.trial_memo import memo_trial_tree

__all__ = ["dumps", "experiment_document_parts", "experiment_to_document", "object_to_json"]

_OPTIONS = DUMPS_OPTIONS

# What encodes a single-arm trial with its run and arm: trial_tree_to_dict, or the memo's
# (which may give the trial's JSON itself, as an orjson.Fragment).
TrialTree = Callable[[Trial], Any]

_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what orjson can write

# trial_tree_to_dict stands for these three together (when the registry has all three).
_TREE_PARTS = ((Trial, trial_to_dict), (GeneratorRun, generator_run_to_dict), (Arm, arm_to_dict))


def dumps(
    obj: Any,
    encoder_registry: Mapping[type, Encoder] = ENCODER_REGISTRY,
    class_encoder_registry: Mapping[type, ClassEncoder] = CLASS_ENCODER_REGISTRY,
) -> bytes:
    """Encode ``obj`` to JSON bytes in one ``orjson.dumps`` call (the fast path).

    Raises JSONEncodeError, with the path inside the document, for an object of a class the
    registry lacks (or any value orjson cannot write).

    Example:
        >>> dumps({"x": float("nan"), "t": (1, 2)})
        b'{"x":{"__type":"float","value":"nan"},"t":{"__type":"tuple","items":[1,2]}}'
    """
    return _dumps(obj, encoder_registry, class_encoder_registry, trial_tree_to_dict)


def _dumps(
    obj: Any,
    encoder_registry: Mapping[type, Encoder],
    class_encoder_registry: Mapping[type, ClassEncoder],
    tree: TrialTree,
) -> bytes:
    default = _make_default(encoder_registry, class_encoder_registry, tree)
    try:
        # The top-level object is encoded here: orjson would write a registered enum (or
        # a free-form value) natively instead of asking ``default``.
        top = default(obj) if type(obj) in encoder_registry else to_json_safe(obj)
        return orjson.dumps(top, default=default, option=_OPTIONS)
    except Exception as err:
        # Encode again in Python to find where it failed; it raises with the path.
        object_to_json(obj, encoder_registry, class_encoder_registry)
        if isinstance(err, JSONEncodeError):
            raise
        cause = err.__cause__
        if isinstance(cause, JSONEncodeError):
            raise cause from cause.__cause__
        raise JSONEncodeError(f"orjson cannot encode the object: {err}") from err


def experiment_to_document(
    experiment: Experiment,
    encoder_registry: Mapping[type, Encoder] = ENCODER_REGISTRY,
    class_encoder_registry: Mapping[type, ClassEncoder] = CLASS_ENCODER_REGISTRY,
    *,
    memo: bool = False,
) -> bytes:
    """The whole JSON file of an experiment: its dict, with ``format_version``, as bytes.

    ``memo``: reuse (and keep) what was encoded of trials unchanged since (see
    :mod:`.trial_memo`) for the trials ``trial_memo.prepare`` was called for, in the thread
    that changes the experiment; the bytes are the same either way.

    Example:
        >>> from aestore.samples import make_empty_experiment
        >>> experiment_to_document(make_empty_experiment())[:48]
        b'{"__type":"Experiment","format_version":1,"name"'
    """
    return b"".join(
        experiment_document_parts(experiment, encoder_registry, class_encoder_registry, memo=memo)
    )


def experiment_document_parts(
    experiment: Experiment,
    encoder_registry: Mapping[type, Encoder] = ENCODER_REGISTRY,
    class_encoder_registry: Mapping[type, ClassEncoder] = CLASS_ENCODER_REGISTRY,
    *,
    memo: bool = False,
) -> Iterator[bytes | memoryview]:
    """:func:`experiment_to_document` in pieces, each encoded when it is asked for.

    A big experiment's trials come ~100 at a time (see :func:`.chunks.chunked_parts`), so a
    save writes the first pieces while the rest are encoded; a small one is one piece.
    Raises JSONEncodeError (with the path inside the document) when a piece can't be encoded.
    ``memo`` as for :func:`experiment_to_document` (this generator may run in another
    thread than the one that called ``trial_memo.prepare``).

    Example:
        >>> from aestore.samples import make_experiment
        >>> experiment = make_experiment(600)
        >>> parts = list(experiment_document_parts(experiment))
        >>> len(parts) > 1, b"".join(parts) == experiment_to_document(experiment)
        (True, True)
    """
    if not isinstance(experiment, Experiment):
        raise JSONEncodeError(
            f"experiment_to_document needs an Experiment, got {type(experiment).__name__}.",
            cls=type(experiment),
        )
    encode = encoder_registry.get(type(experiment))
    tree = memo_trial_tree if memo else trial_tree_to_dict
    with gc_paused():
        if encode is not None and encode not in CLEAN_ENCODERS:
            # A user's Experiment encoder: make sure the document still says its version.
            fields = _checked_object_dict(encode, experiment, [])
            if "format_version" not in fields:
                fields = {TYPE_KEY: fields[TYPE_KEY], "format_version": FORMAT_VERSION, **fields}
            yield dumps(Tagged(fields), encoder_registry, class_encoder_registry)
            return
        if encode is not experiment_to_dict or len(experiment.trials) <= CHUNK_TRIALS:
            yield _dumps(experiment, encoder_registry, class_encoder_registry, tree)
            return
        default = _make_default(encoder_registry, class_encoder_registry, tree)
        parts = chunked_parts(
            experiment_to_dict(experiment),
            lambda value: orjson.dumps(value, default=default, option=_OPTIONS),
            dumps_trials=_trials_dumps(default, tree) if _tree_applies(encoder_registry) else None,
        )
        while True:
            try:
                part = next(parts)
            except StopIteration:
                return
            except Exception as err:
                # Encode again in one piece to find where it failed; it raises with the path.
                dumps(experiment, encoder_registry, class_encoder_registry)
                raise JSONEncodeError(f"orjson cannot encode the experiment: {err}") from err
            yield part


def object_to_json(
    obj: Any,
    encoder_registry: Mapping[type, Encoder] = ENCODER_REGISTRY,
    class_encoder_registry: Mapping[type, ClassEncoder] = CLASS_ENCODER_REGISTRY,
) -> Any:
    """Encode ``obj`` to plain JSON values in pure Python (the reference encoder).

    Example:
        >>> from aestore.core import Arm
        >>> object_to_json({"arm": Arm({"x": 1}, name="a"), "when": (1.5, float("inf"))})
        ... # doctest: +NORMALIZE_WHITESPACE
        {'arm': {'__type': 'Arm', 'name': 'a', 'parameters': {'x': 1}},
         'when': {'__type': 'tuple', 'items': [1.5, {'__type': 'float', 'value': 'inf'}]}}
    """
    encoder = _Reference(encoder_registry, class_encoder_registry)
    if type(obj) not in encoder_registry:
        obj = to_json_safe(obj)
    return encoder.value(obj, [])


# --- the fast path -------------------------------------------------------------------------


def _make_default(
    encoders: Mapping[type, Encoder],
    class_encoders: Mapping[type, ClassEncoder],
    tree: TrialTree = trial_tree_to_dict,
) -> Callable[[Any], Any]:
    # The model's own encoders need no checking: look them up first, in a dict of their own.
    clean: dict[type, Callable[[Any], Any]] = {
        cls: fn for cls, fn in encoders.items() if fn in CLEAN_ENCODERS
    }
    if _tree_applies(encoders):
        clean[Trial] = tree  # the same dicts, one call per trial instead of three
    trusted = clean.get

    def default(obj: Any) -> Any:
        encode = trusted(type(obj))
        if encode is not None:
            return encode(obj)
        encode = encoders.get(type(obj))
        if encode is not None:
            return _checked_object_dict(encode, obj, None)
        return _encode_unregistered(obj, encoders, class_encoders, None)

    return default


def _tree_applies(encoders: Mapping[type, Encoder]) -> bool:
    """Whether the registry encodes trials, runs and arms with the model's own functions, so
    that :func:`trial_tree_to_dict` may stand for the three."""
    return all(encoders.get(cls) is fn for cls, fn in _TREE_PARTS)


def _trials_dumps(default: Callable[[Any], Any], tree: TrialTree) -> Callable[[list[Any]], bytes]:
    """``orjson.dumps`` of a list of trials, the model's single-arm trials encoded up front:
    one ``map`` over the list costs less than orjson calling ``default`` once per trial."""

    def dumps_trials(trials: list[Any]) -> bytes:
        if set(map(type, trials)) == _JUST_TRIAL:
            trials = list(map(tree, trials))
        return orjson.dumps(trials, default=default, option=_OPTIONS)

    return dumps_trials


_JUST_TRIAL = {Trial}


# --- shared by both paths ------------------------------------------------------------------


def _where(path: list[Any] | None) -> str | None:
    return None if path is None else ".".join(map(str, path))


def _checked_object_dict(encode: Encoder, obj: Any, path: list[Any] | None) -> dict[str, Any]:
    """A user's ``class_to_dict`` output, checked and made safe for orjson."""
    out = encode(obj)
    if not isinstance(out, dict) or type(out.get(TYPE_KEY)) is not str:
        raise JSONEncodeError(
            f"The class_to_dict for {_qualname(type(obj))} returned {type(out).__name__}; it "
            f'must return a dict with a "__type" key naming the class.',
            cls=type(obj),
            path=_where(path),
        )
    safe = {}
    for key, value in out.items():
        if type(key) is not str:
            raise JSONEncodeError(
                f"The class_to_dict for {_qualname(type(obj))} returned the non-string key "
                f"{key!r}; field names must be strings.",
                cls=type(obj),
                path=_where(path),
            )
        safe[key] = to_json_safe(value)
    return safe


def _encode_unregistered(
    obj: Any,
    encoders: Mapping[type, Encoder],
    class_encoders: Mapping[type, ClassEncoder],
    path: list[Any] | None,
) -> Any:
    """What an object whose exact class is not registered becomes (or JSONEncodeError).

    The result is safe for orjson; tags in it are :class:`Tagged`.
    """
    if type(obj) is Deferred:
        obj = obj.value
        encode = encoders.get(type(obj))
        if encode is not None:
            return (
                encode(obj) if encode in CLEAN_ENCODERS else _checked_object_dict(encode, obj, path)
            )
    cls = type(obj)
    if isinstance(obj, type):
        return _encode_class(obj, encoders, class_encoders, path)
    if cls.__module__ == "numpy" and getattr(obj, "shape", None) == ():
        item = obj.item()
        if type(item) in (int, float, bool):
            return to_json_safe(item)
    if not isinstance(obj, Enum):
        for base in _BUILTIN_BASES:
            if isinstance(obj, base):  # e.g. an OrderedDict: written as its builtin base
                return to_json_safe(base(obj))
    raise _unregistered_error(cls, encoders, path)


_BUILTIN_BASES: tuple[type, ...] = (dict, list, tuple, str, int, float)


def _encode_class(
    cls: type,
    encoders: Mapping[type, Encoder],
    class_encoders: Mapping[type, ClassEncoder],
    path: list[Any] | None,
) -> dict[str, Any]:
    for base in cls.__mro__:
        encode = class_encoders.get(base)
        if encode is not None:
            if cls is not base and cls not in encoders:
                raise JSONEncodeError(
                    f"The class {_qualname(cls)} itself is stored by name, so it must be "
                    f"registered to be found when loading: register_class({cls.__name__}) "
                    "(aestore.storage.json_store.registry).",
                    cls=cls,
                    path=_where(path),
                )
            return Tagged({k: to_json_safe(v) for k, v in encode(cls).items()})
    bases = ", ".join(b.__name__ for b in class_encoders) or "none"
    raise JSONEncodeError(
        f"Cannot store the class {_qualname(cls)} itself: only subclasses of {bases} can be "
        "stored as classes (add its base to CLASS_ENCODER_REGISTRY and "
        "CLASS_DECODER_REGISTRY).",
        cls=cls,
        path=_where(path),
    )


def _unregistered_error(
    cls: type, encoders: Mapping[type, Encoder], path: list[Any] | None
) -> JSONEncodeError:
    name = cls.__name__
    registered_base = next((b for b in cls.__mro__[1:] if b in encoders), None)
    hint = ""
    if registered_base is not None and registered_base is not object:
        hint = (
            f" It subclasses {registered_base.__name__}, which is registered, but it is not "
            f"stored as a {registered_base.__name__} because its own fields would be lost."
        )
    where = "" if path is None else f" (at {_where(path) or 'the top level'})"
    return JSONEncodeError(
        f"Cannot encode an object of class {_qualname(cls)}{where}: it is not in the JSON "
        f"encoder registry.{hint} Register it in aestore.storage.json_store.registry: "
        f"ENCODER_REGISTRY[{name}] = {_snake(name)}_to_dict and "
        f'DECODER_REGISTRY["{name}"] = {name}, or register_class({name}).',
        cls=cls,
        path=_where(path),
    )


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# --- the reference -------------------------------------------------------------------------


class _Reference:
    """The pure-Python encoder, tracking the path for error messages."""

    __slots__ = ("class_encoders", "encoders")

    def __init__(
        self, encoders: Mapping[type, Encoder], class_encoders: Mapping[type, ClassEncoder]
    ) -> None:
        self.encoders = encoders
        self.class_encoders = class_encoders

    def value(self, value: Any, path: list[Any]) -> Any:
        t = type(value)
        t = PLAIN_TYPE.get(t, t)  # the model's tracked containers are dicts and lists
        if t is str or t is bool or value is None:
            return value
        if t is int:
            if not _INT_MIN <= value <= _INT_MAX:
                raise JSONEncodeError(
                    f"The integer {value} does not fit in 64 bits, which JSON readers "
                    "(and orjson) require; store it as a string.",
                    path=_where(path),
                )
            return value
        if t is float:
            return value if value - value == 0.0 else dict(nonfinite_tag(value))
        if t is list:
            return [self.at(item, path, i) for i, item in enumerate(value)]
        if t is Tagged:
            return {key: self.at(item, path, key) for key, item in value.items()}
        if t is dict:
            if TYPE_KEY in value or any(type(key) is not str for key in value):
                return self.value(to_json_safe(value), path)
            return {key: self.at(item, path, key) for key, item in value.items()}
        if t is tuple:
            return self.value(to_json_safe(value), path)
        if t is datetime:  # only typed fields hold bare datetimes: free-form ones are tagged
            return value.isoformat()
        return self.object(value, path)

    def at(self, value: Any, path: list[Any], segment: Any) -> Any:
        path.append(segment)
        try:
            return self.value(value, path)
        finally:
            path.pop()

    def object(self, obj: Any, path: list[Any]) -> Any:
        if type(obj) is Deferred:
            obj = obj.value
        encode = self.encoders.get(type(obj))
        if encode is None:
            return self.value(
                _encode_unregistered(obj, self.encoders, self.class_encoders, path), path
            )
        try:
            out = (
                encode(obj) if encode in CLEAN_ENCODERS else _checked_object_dict(encode, obj, path)
            )
        except JSONEncodeError:
            raise
        except Exception as err:
            raise JSONEncodeError(
                f"The class_to_dict for {_qualname(type(obj))} failed: {type(err).__name__}: {err}",
                cls=type(obj),
                path=_where(path),
            ) from err
        return {key: self.at(item, path, key) for key, item in out.items()}
