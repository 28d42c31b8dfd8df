"""Docstring examples run and give what they show, and every public module has one.

A module whose docstrings hold no example at all fails, unless it is listed
below with the reason it has none.
"""

import doctest
import importlib
import os
import pkgutil

import pytest

import skmdl

#: modules whose examples read $SKMDL_DATA
NEEDS_SHARED_DATA = {"skmdl.datasets._base", "skmdl.datasets._home", "skmdl.datasets._smiles"}

#: modules without examples, and why they need none
EXEMPT = {
    "skmdl.csp": "package that only re-exports names documented (with examples) in its modules",
    "skmdl.library": "package that only re-exports names documented in its modules",
    "skmdl.transfer": "package that only re-exports names documented in its modules",
    "skmdl.utils": "empty package marker",
    "skmdl.datasets": "package that only re-exports the loaders documented in its modules",
}

#: modules that need an example from their owners (not written by this change); each is
#: a strict xfail, so an example added there fails the test until the entry is removed
NEEDS_EXAMPLE_FROM_OWNER = {
}

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(skmdl.__path__, "skmdl.") if not m.name.endswith("__main__")
)


def _param(name):
    reason = NEEDS_EXAMPLE_FROM_OWNER.get(name)
    if reason is None:
        return name
    return pytest.param(name, marks=pytest.mark.xfail(
        strict=True, reason=f"no example yet in {name} ({reason})"))


def test_lists_name_real_modules():
    listed = set(NEEDS_SHARED_DATA) | set(EXEMPT) | set(NEEDS_EXAMPLE_FROM_OWNER)
    assert listed <= set(MODULES), sorted(listed - set(MODULES))
    assert not set(EXEMPT) & set(NEEDS_EXAMPLE_FROM_OWNER)


@pytest.mark.parametrize("name", [_param(m) for m in MODULES])
def test_docstring_examples(name):
    if name in NEEDS_SHARED_DATA and not os.environ.get("SKMDL_DATA"):
        pytest.skip("examples need SKMDL_DATA")
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module)
    n_examples = sum(len(t.examples) for t in tests)
    if name in EXEMPT:
        assert n_examples == 0, f"{name} has examples now: remove it from EXEMPT"
        return
    assert n_examples > 0, f"{name} has no docstring example: add one (or list it in EXEMPT)"
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
