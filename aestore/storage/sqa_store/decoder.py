"""``Decoder``, importable from here too (the spec names ``base_decoder``)."""

from aestore.storage.sqa_store.base_decoder import Decoder, StoredRows

__all__ = ["Decoder", "StoredRows"]
