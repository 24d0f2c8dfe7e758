"""Decode JSON (from :mod:`.encoder`) back into experiment objects.

:func:`experiment_from_document` parses a whole document's bytes with ``orjson.loads`` and
decodes it; :func:`object_from_json` decodes an already-parsed value. Both dispatch on each
object's ``"__type"``: the format's own tags (``float``, ``tuple``, ``dict``, ``datetime``,
``date``), then ``class_decoder_registry`` (stored classes), then ``decoder_registry``. A
model class there is decoded field by field (:mod:`.decoders`); any other class or function
is called with the decoded fields as keyword arguments.

Everything that can go wrong is a :class:`~aestore.exceptions.JSONDecodeError` whose ``path``
says where (``trials.3.generator_run.arms.0``), or an
:class:`~aestore.exceptions.UnsupportedFormatVersionError` for a document from a newer
aestore. Paths cost nothing until something fails: each level adds its segment on the way out.

Example:
    >>> from aestore.samples import make_experiment
    >>> from aestore.storage.json_store.encoder import experiment_to_document
    >>> experiment = make_experiment(3)
    >>> experiment_from_document(experiment_to_document(experiment)) == experiment
    True
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from functools import partial
from typing import Any

import orjson

from aestore._steps import Blocking, Steps, run_steps
from aestore.core import Experiment
from aestore.exceptions import JSONDecodeError, UnsupportedFormatVersionError
from aestore.storage.json_store.chunks import parse_chunked_steps
from aestore.storage.json_store.decoders import CORE_DECODERS, DecodeFailure
from aestore.storage.json_store.experiment_decoders import experiment_from_json, experiment_steps
from aestore.storage.json_store.format import (
    DATE_TAG,
    DATETIME_TAG,
    DICT_TAG,
    FLOAT_TAG,
    FORMAT_VERSION,
    TUPLE_TAG,
    TYPE_KEY,
)
from aestore.storage.json_store.registry import (
    CLASS_DECODER_REGISTRY,
    DECODER_REGISTRY,
    ClassDecoder,
    Decoder,
)

__all__ = [
    "DecodeContext",
    "experiment_document_steps",
    "experiment_from_document",
    "object_from_json",
]

_ObjectDecoder = Callable[[dict[str, Any], "DecodeContext"], Any]

# Documents smaller than this (~2,000 trials) are parsed in one orjson call even when they
# are in the chunked layout: ~8 ms of GIL at most.
WHOLE_PARSE_MAX_BYTES = 2 * 1024 * 1024


def object_from_json(
    obj: Any,
    decoder_registry: Mapping[str, Decoder] = DECODER_REGISTRY,
    class_decoder_registry: Mapping[str, ClassDecoder] = CLASS_DECODER_REGISTRY,
) -> Any:
    """Decode a parsed JSON value (the output of ``object_to_json`` or ``orjson.loads``).

    Raises JSONDecodeError (with ``path``) when a part cannot be decoded.

    Example:
        >>> object_from_json({"__type": "tuple", "items": [1, {"__type": "float",
        ...                                                    "value": "inf"}]})
        (1, inf)
    """
    context = DecodeContext(decoder_registry, class_decoder_registry)
    try:
        return context.value(obj)
    except DecodeFailure as failure:
        raise _translate(failure, obj, None) from failure.__cause__


def experiment_from_document(
    data: bytes | bytearray | memoryview | str,
    decoder_registry: Mapping[str, Decoder] = DECODER_REGISTRY,
    class_decoder_registry: Mapping[str, ClassDecoder] = CLASS_DECODER_REGISTRY,
    filepath: str | os.PathLike[str] | None = None,
) -> Experiment:
    """Parse and decode a whole JSON document into an :class:`~aestore.core.Experiment`.

    ``filepath`` only goes into error messages. Raises JSONDecodeError for empty, truncated
    or non-JSON input, JSON that is not an experiment document, a missing or mistyped field
    or an unknown ``__type``; UnsupportedFormatVersionError for a newer format version.

    Example:
        >>> from aestore.exceptions import JSONDecodeError
        >>> try:
        ...     experiment_from_document(b"[1, 2]", filepath="x.json")
        ... except JSONDecodeError as err:
        ...     print(err.filepath)
        x.json
    """
    return run_steps(
        experiment_document_steps(data, decoder_registry, class_decoder_registry, filepath)
    )


def experiment_document_steps(
    data: bytes | bytearray | memoryview | str,
    decoder_registry: Mapping[str, Decoder] = DECODER_REGISTRY,
    class_decoder_registry: Mapping[str, ClassDecoder] = CLASS_DECODER_REGISTRY,
    filepath: str | os.PathLike[str] | None = None,
) -> Steps[Experiment]:
    """:func:`experiment_from_document` in steps of about a millisecond (see
    :mod:`aestore._steps`): ``load_experiment`` runs them on the event loop, which runs
    other tasks between them. A document whose experiment is decoded by anything but the
    model's own decoder (a user's class or function in the registry) is decoded in one
    :class:`~aestore._steps.Blocking` request, which the loop runs in a thread.

    Example:
        >>> from aestore.samples import make_experiment
        >>> from aestore.storage.json_store.encoder import experiment_to_document
        >>> document = experiment_to_document(make_experiment(3))
        >>> run_steps(experiment_document_steps(document)).num_trials
        3
    """
    return (
        yield from _experiment_from_document(
            data, decoder_registry, class_decoder_registry, filepath
        )
    )


def _experiment_from_document(
    data: bytes | bytearray | memoryview | str,
    decoder_registry: Mapping[str, Decoder],
    class_decoder_registry: Mapping[str, ClassDecoder],
    filepath: str | os.PathLike[str] | None,
) -> Steps[Experiment]:
    try:
        # A big document is parsed chunk by chunk (see .chunks), with a step between chunks;
        # any other document in one call, which is ~20% quicker (no slicing and joining)
        # and takes a few milliseconds at most.
        big = isinstance(data, bytes) and len(data) >= WHOLE_PARSE_MAX_BYTES
        document = (yield from parse_chunked_steps(data)) if big else None
        if document is None:
            document = orjson.loads(data)
    except (orjson.JSONDecodeError, TypeError) as err:
        if isinstance(data, bytes | bytearray | memoryview | str) and len(data) == 0:
            message = "The document is empty (a save that never finished?)"
        else:
            message = f"Not valid JSON, the document may be truncated or corrupt ({err})"
        raise JSONDecodeError(message, filepath=filepath) from err
    if type(document) is not dict or type(document.get(TYPE_KEY)) is not str:
        raise JSONDecodeError(
            'Not an aestore experiment document: expected a JSON object with "__type": '
            f'"Experiment", got {_describe_json(document)}',
            filepath=filepath,
        )
    version = document.get("format_version")
    if type(version) is int and version > FORMAT_VERSION:
        raise UnsupportedFormatVersionError(
            f"The document has format version {version}, newer than the {FORMAT_VERSION} this "
            "aestore reads; upgrade aestore to load it",
            filepath=filepath,
            path="format_version",
        )
    context = DecodeContext(decoder_registry, class_decoder_registry)
    try:
        name = document[TYPE_KEY]
        if context.decoder(name) is experiment_from_json:
            # The model's own experiment decoder, in steps; a failure is reported as the
            # context's dispatch would report it.
            try:
                experiment = yield from experiment_steps(document, context)
            except Exception as err:
                raise context.failure(name, document, err)  # noqa: B904 (its cause is set)
        else:
            # Someone else's decoder, which may take long in one call: off the loop.
            experiment = yield Blocking(context.value, document)
    except DecodeFailure as failure:
        raise _translate(failure, document, filepath) from failure.__cause__
    if not isinstance(experiment, Experiment):
        raise JSONDecodeError(
            "Not an aestore experiment document: its top-level object is a "
            f"{type(experiment).__name__}, not an Experiment",
            filepath=filepath,
        )
    return experiment


def _describe_json(value: Any) -> str:
    if type(value) is dict:
        return 'an object without a "__type"'
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number"}.get(
        type(value), "null" if value is None else "a number"
    )


def _translate(
    failure: DecodeFailure, root: Any, filepath: str | os.PathLike[str] | None
) -> JSONDecodeError:
    """The public error for ``failure``, with the path from the document's root."""
    message = failure.message[:1].upper() + failure.message[1:]
    return failure.error_class(message, filepath=filepath, path=_path(root, failure))


def _path(root: Any, failure: DecodeFailure) -> str | None:
    """Where ``failure`` happened: the path of its object in ``root``, then its segments."""
    segments = list(failure.segments)
    if failure.node is not None and failure.node is not root:
        segments = _locate(root, failure.node) + segments
    return ".".join(map(str, segments)) or None


def _locate(root: Any, node: Any) -> list[Any]:
    """The path of ``node`` (found by identity) inside the parsed document ``root``."""
    stack: list[tuple[Any, list[Any]]] = [(root, [])]
    while stack:
        value, path = stack.pop()
        if value is node:
            return path
        if type(value) is dict:
            stack.extend((item, [*path, key]) for key, item in value.items())
        elif type(value) is list:
            stack.extend((item, [*path, i]) for i, item in enumerate(value))
    return []


class DecodeContext:
    """Decodes values with one pair of registries, caching the decoder of each ``__type``.

    The model's ``*_from_json`` functions call back into :meth:`value` for nested values.
    """

    __slots__ = ("_dispatch", "class_decoder_registry", "decoder_registry", "plain_trees")

    def __init__(
        self,
        decoder_registry: Mapping[str, Decoder] = DECODER_REGISTRY,
        class_decoder_registry: Mapping[str, ClassDecoder] = CLASS_DECODER_REGISTRY,
    ) -> None:
        self.decoder_registry = decoder_registry
        self.class_decoder_registry = class_decoder_registry
        self._dispatch: dict[str, _ObjectDecoder] = dict(_BUILTIN_DECODERS)
        # Whether generator runs and arms are decoded by the model's own functions, so that
        # a trial's may be decoded with it (found by the trial decoder on first use).
        self.plain_trees: bool | None = None

    def value(self, value: Any) -> Any:
        """Decode any JSON value; plain values (and containers of them) come back as they are.

        Raises DecodeFailure, with ``node`` set to the innermost object that failed.
        """
        t = type(value)
        if t is dict:
            name = value.get(TYPE_KEY)
            if name is None:
                for item in value.values():
                    ti = type(item)
                    if ti is dict or ti is list:
                        decode = self.value
                        return {key: decode(item) for key, item in value.items()}
                return value
            try:
                decode_object = self._dispatch.get(name) if type(name) is str else None
                if decode_object is None:
                    decode_object = self._resolve(name)
                return decode_object(value, self)
            except Exception as err:
                raise self.failure(name, value, err)  # noqa: B904 (its cause is set)
        if t is list:
            for item in value:
                ti = type(item)
                if ti is dict or ti is list:
                    decode = self.value
                    return [decode(item) for item in value]
            return value
        return value

    @staticmethod
    def failure(name: Any, value: dict[str, Any], err: Exception) -> DecodeFailure:
        """What decoding the object ``value`` (of ``"__type"`` ``name``) raising ``err`` is:
        ``err`` itself when it is a DecodeFailure, else one saying what was wrong (a missing
        field, an invalid value) whose ``__cause__`` is ``err``; its ``node`` is ``value``
        unless an inner object already failed."""
        if isinstance(err, DecodeFailure):
            if err.node is None:
                err.node = value
            return err
        if isinstance(err, KeyError):
            failure = DecodeFailure(f"{name} is missing the required field {err.args[0]!r}")
        else:
            failure = DecodeFailure(f"Invalid {name}: {type(err).__name__}: {err}")
        failure.node = value
        failure.__cause__ = err
        return failure

    def decoder(self, name: str) -> _ObjectDecoder | None:
        """The function that decodes objects whose ``"__type"`` is ``name`` (None if unknown).

        Lets a model decoder check that a nested object is decoded by the function it
        expects before decoding it in place.
        """
        decode = self._dispatch.get(name)
        if decode is None:
            try:
                decode = self._resolve(name)
            except DecodeFailure:
                return None
        return decode

    def _resolve(self, name: Any) -> _ObjectDecoder:
        if type(name) is not str:
            raise DecodeFailure(f'"__type" must be a string, got {name!r}', TYPE_KEY)
        class_decoder = self.class_decoder_registry.get(name)
        if class_decoder is not None:
            decode: _ObjectDecoder = partial(_decode_class, class_decoder)
        else:
            target = self.decoder_registry.get(name)
            if target is None:
                raise DecodeFailure(
                    f"Unknown __type {name!r}: nothing of that name is in the decoder registry. "
                    f"If {name} is your own class, register it before loading: "
                    f'DECODER_REGISTRY["{name}"] = {name} with its class_to_dict in '
                    f"ENCODER_REGISTRY, or register_class({name}) "
                    "(both in aestore.storage.json_store.registry)"
                )
            core = CORE_DECODERS.get(target) if isinstance(target, type) else None
            decode = core if core is not None else partial(_construct, target, name)
        self._dispatch[name] = decode
        return decode


# --- the format's own tags -----------------------------------------------------------------

# One shared object per value: a decoded NaN is then equal to itself inside containers
# (``{"x": nan} == {"x": nan}`` compares by identity first), as the one float object the
# original held was; the model compares arm parameters this way when it re-links arms.
_NONFINITE = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


def _float_from_json(d: dict[str, Any], ctx: DecodeContext) -> float:
    text = d["value"]
    value = _NONFINITE.get(text) if type(text) is str else None
    if value is None:
        raise DecodeFailure(f'{text!r} is not "nan", "inf" or "-inf"', "value")
    return value


def _tuple_from_json(d: dict[str, Any], ctx: DecodeContext) -> tuple[Any, ...]:
    items = d["items"]
    if type(items) is not list:
        raise DecodeFailure("expected a list", "items")
    return tuple(ctx.value(items))


def _dict_from_json(d: dict[str, Any], ctx: DecodeContext) -> dict[Any, Any]:
    items = d["items"]
    if type(items) is not list:
        raise DecodeFailure("expected a list of [key, value] pairs", "items")
    out = {}
    for position, pair in enumerate(items):
        if type(pair) is not list or len(pair) != 2:
            raise DecodeFailure("expected a [key, value] pair", "items", position)
        key = ctx.value(pair[0])
        try:
            out[key] = ctx.value(pair[1])
        except TypeError:
            raise DecodeFailure(f"{key!r} cannot be a dict key", "items", position, 0) from None
    return out


def _datetime_from_json(d: dict[str, Any], ctx: DecodeContext) -> datetime:
    return datetime.fromisoformat(d["value"])


def _date_from_json(d: dict[str, Any], ctx: DecodeContext) -> date:
    return date.fromisoformat(d["value"])


_BUILTIN_DECODERS: dict[str, _ObjectDecoder] = {
    FLOAT_TAG: _float_from_json,
    TUPLE_TAG: _tuple_from_json,
    DICT_TAG: _dict_from_json,
    DATETIME_TAG: _datetime_from_json,
    DATE_TAG: _date_from_json,
}


# --- classes and user classes --------------------------------------------------------------


def _decode_class(class_decoder: ClassDecoder, d: dict[str, Any], ctx: DecodeContext) -> type:
    return class_decoder(d, ctx.decoder_registry)


@functools.cache
def _constructor_parameters(cls: type) -> frozenset[str] | None:
    """Names the constructor accepts as keywords, or None when it takes ``**kwargs``."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(
        p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )


def _construct(target: Decoder, name: str, d: dict[str, Any], ctx: DecodeContext) -> Any:
    """A registered class or function, called with the decoded fields as keyword arguments.

    For a class, fields its constructor does not take are set as attributes afterwards
    (state a ``class_to_dict`` saved beyond the constructor's arguments). Enums are
    looked up by member name.
    """
    kwargs = {key: ctx.value(raw) for key, raw in d.items() if key != TYPE_KEY}
    if isinstance(target, type) and issubclass(target, Enum):
        member: Any = kwargs.get("name")
        try:
            return target[member]
        except (KeyError, TypeError):
            raise DecodeFailure(f"{member!r} is not a member of {name}", "name") from None
    extra: dict[str, Any] = {}
    if isinstance(target, type):
        accepted = _constructor_parameters(target)
        if accepted is not None:
            extra = {k: kwargs.pop(k) for k in list(kwargs) if k not in accepted}
    try:
        obj = target(**kwargs)
    except Exception as err:
        raise DecodeFailure(
            f"Could not rebuild {name} from its stored fields ({', '.join(kwargs)}): "
            f"{type(err).__name__}: {err}"
        ) from err
    for key, value in extra.items():
        try:
            setattr(obj, key, value)
        except Exception as err:
            raise DecodeFailure(
                f"Could not restore the attribute {key!r} of {name}: {err}", key
            ) from err
    return obj
