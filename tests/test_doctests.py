"""Every docstring example in aestore runs and shows what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import aestore

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(aestore.__path__, prefix="aestore.")
    if info.name != "aestore.__main__"
)


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name: str) -> None:
    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module_name}"
