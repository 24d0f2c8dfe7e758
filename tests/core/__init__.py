"""Tests of the experiment model (aestore.core)."""
