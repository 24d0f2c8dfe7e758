"""The JSON file store: one experiment per JSON document.

The codec is pure and synchronous: :mod:`.encoders` (one ``class_to_dict`` per model class),
:mod:`.encoder` (``object_to_json`` and the orjson fast path ``dumps`` /
``experiment_to_document``), :mod:`.decoders` and :mod:`.decoder` (``object_from_json``,
``experiment_from_document``), :mod:`.registry` (``ENCODER_REGISTRY``, ``DECODER_REGISTRY``,
``register_class``) and :mod:`.format` (the document format). ``save`` and ``load`` do the
file I/O.
"""
