"""Pausing the cyclic garbage collector while the SQL store builds or encodes a big experiment.

Decoding a 10,000-trial experiment creates hundreds of thousands of containers, and encoding
one for its first save about as many long-lived rows: the collector would run full collections
over every live object (100-250 ms each, the event loop standing still). The pause is the one
process-wide pause of :mod:`aestore._gc`, shared with the JSON store so the two stores'
pauses never undo each other; long work calls :func:`gc_step` between slices.
"""

from __future__ import annotations

from aestore._gc import gc_paused, gc_step

__all__ = ["gc_paused", "gc_step"]
