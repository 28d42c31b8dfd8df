"""Docstring examples run and give what they show."""

import doctest
import importlib
import os
import pkgutil

import pytest

import skmdl

#: modules whose examples read $SKMDL_DATA
NEEDS_SHARED_DATA = {"skmdl.datasets._base"}

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(skmdl.__path__, "skmdl.") if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name in NEEDS_SHARED_DATA and not os.environ.get("SKMDL_DATA"):
        pytest.skip("examples need SKMDL_DATA")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
