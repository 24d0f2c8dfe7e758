"""The chunked layout of a big document: the trials array split by newlines.

A document is one JSON object whatever its size. For a big experiment the writer puts a
newline after ``"trials":[``, between chunks of :data:`CHUNK_TRIALS` trials and before the
closing ``]``::

    {"__type":"Experiment",...,"trials":[
    {trial 0},...,{trial 499},
    {trial 500},...
    ],"data_by_trial":...}

Newlines are insignificant whitespace, so any JSON reader reads the file as before. Compact
orjson output never holds a raw newline byte (one inside a string is written ``\\n``), so the
newlines mark the chunks exactly, and a reader can parse the document one chunk at a time:
each ``orjson.loads`` holds the GIL for a few milliseconds instead of one call holding it for
the whole file (~50 ms at 10,000 trials), and the event loop runs in between. A file whose
layout is not this one (hand-edited, pretty-printed, older) is parsed whole.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from aestore._gc import gc_step
from aestore._steps import Steps, run_steps

__all__ = [
    "CHUNK_TRIALS",
    "PIECE_TRIALS",
    "chunked_parts",
    "join_chunked",
    "parse_chunked",
    "parse_chunked_steps",
]

# Trials per chunk: ~0.5 MB of JSON, a few ms to parse.
CHUNK_TRIALS = 500
# Trials encoded per piece when the document is written as it is encoded: ~0.1 MB.
PIECE_TRIALS = 100

_OPEN = b'"trials":['


def join_chunked(
    fields: dict[str, Any], dumps: Callable[[Any], bytes], trials_key: str = "trials"
) -> bytes:
    """The document of ``fields`` with its trials array written in newline-separated chunks.

    ``dumps`` writes one value (the fast path). The bytes parse to the same value as
    ``dumps(fields)``.

    Example:
        >>> doc = join_chunked({"trials": list(range(1200)), "n": 1}, orjson.dumps)
        >>> doc.count(b"\\n"), orjson.loads(doc) == {"trials": list(range(1200)), "n": 1}
        (4, True)
    """
    return b"".join(chunked_parts(fields, dumps, trials_key))


def chunked_parts(
    fields: dict[str, Any],
    dumps: Callable[[Any], bytes],
    trials_key: str = "trials",
    dumps_trials: Callable[[list[Any]], bytes] | None = None,
) -> Iterator[bytes | memoryview]:
    """:func:`join_chunked`'s document in pieces, each made when it is asked for.

    The trials are encoded :data:`PIECE_TRIALS` at a time, so a writer can write (and the
    disk start storing) the first pieces while the next are being encoded, and the whole
    document never sits in memory twice. ``b"".join`` of the pieces is the document.
    ``dumps_trials`` (default ``dumps``) writes one such list of trials; it must give what
    ``dumps`` gives for it.

    Example:
        >>> parts = list(chunked_parts({"trials": list(range(250)), "n": 1}, orjson.dumps))
        >>> len(parts), b"".join(parts) == join_chunked({"trials": list(range(250)), "n": 1},
        ...                                             orjson.dumps)
        (9, True)
    """
    trials = fields[trials_key]
    dumps_piece = dumps if dumps_trials is None else dumps_trials
    token = secrets.token_hex(16)  # a placeholder no value of the document can spell
    outer = dumps({**fields, trials_key: token})
    head, found, tail = outer.partition(b'"' + token.encode() + b'"')
    if not found or not head.endswith(b'"' + trials_key.encode() + b'":'):
        yield dumps(fields)
        return
    yield head
    # A list's compact JSON is its items' joined by commas: pieces of a chunk joined by b","
    # are the chunk's own bytes. memoryviews drop each piece's brackets without a copy.
    count = len(trials)
    for chunk in range(0, count, CHUNK_TRIALS):
        yield b"[\n" if chunk == 0 else b",\n"
        end = min(chunk + CHUNK_TRIALS, count)
        for start in range(chunk, end, PIECE_TRIALS):
            if start != chunk:
                yield b","
            yield memoryview(dumps_piece(trials[start : min(start + PIECE_TRIALS, end)]))[1:-1]
    yield b"[\n\n]" if count == 0 else b"\n]"
    yield tail


def parse_chunked(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse a document in the chunked layout chunk by chunk; None if it is not in it.

    Example:
        >>> parse_chunked(join_chunked({"trials": [1, 2, 3], "n": 1}, orjson.dumps))
        {'trials': [1, 2, 3], 'n': 1}
        >>> parse_chunked(b'{"trials": []}') is None
        True
    """
    return run_steps(parse_chunked_steps(data))


def parse_chunked_steps(data: bytes | bytearray | memoryview | str) -> Steps[Any]:
    """:func:`parse_chunked` in steps (see :mod:`aestore._steps`): it yields after each chunk.

    Example:
        >>> run_steps(parse_chunked_steps(join_chunked({"trials": [1], "n": 1}, orjson.dumps)))
        {'trials': [1], 'n': 1}
    """
    if not isinstance(data, bytes):
        return None
    first = data.find(b"\n")
    last = data.rfind(b"\n")
    if first < 0 or last <= first or not data.startswith(_OPEN, first - len(_OPEN)):
        return None
    if not data.startswith(b"]", last + 1):
        return None
    try:
        # The first newline must follow the document's own "trials":[ (a nested object's
        # "trials" key, in a hand-made file, would leave this unclosed) ...
        orjson.loads(data[:first] + b"]}")
        # ... and, without the trials, the rest must be the document, with no trials.
        document = orjson.loads(data[:first] + data[last + 1 :])
        if type(document) is not dict or document.get("trials") != []:
            return None
        trials: list[Any] = []
        start = first + 1
        while True:
            yield None
            stop = data.find(b",\n", start, last)
            end = last if stop < 0 else stop
            trials.extend(orjson.loads(b"[" + data[start:end] + b"]"))
            gc_step()  # (when a pause is in progress: see aestore._gc)
            if stop < 0:
                break
            start = stop + 2
    except orjson.JSONDecodeError:
        return None  # not our layout after all: the caller parses it whole
    document["trials"] = trials
    return document
