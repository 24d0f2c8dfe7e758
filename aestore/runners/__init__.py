"""Runner classes and the SQL store's runner registry (:mod:`aestore.runners.registry`)."""
