"""Metric classes and the SQL store's metric registry (:mod:`aestore.metrics.registry`)."""
