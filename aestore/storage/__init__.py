"""Storage backends: JSON files (:mod:`aestore.storage.json_store`) and SQL databases
(:mod:`aestore.storage.sqa_store`).
"""
