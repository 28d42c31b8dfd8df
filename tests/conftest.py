"""Shared test fixtures: the shared data folder and its skip marker."""

import os
from pathlib import Path

import pytest


def _shared_data():
    path = os.environ.get("SKMDL_DATA")
    return Path(path) if path and Path(path).is_dir() else None


def pytest_collection_modifyitems(config, items):
    if _shared_data() is not None:
        return
    skip = pytest.mark.skip(reason="needs SKMDL_DATA pointing at the shared data folder")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data():
    """Path of the shared data folder ($SKMDL_DATA); the test is skipped without it."""
    path = _shared_data()
    if path is None:
        pytest.skip("needs SKMDL_DATA pointing at the shared data folder")
    return path


def pytest_configure(config):
    # parsed pools and structure types are cached under $SKMDL_CACHE: never in the user's home
    if not os.environ.get("SKMDL_CACHE"):
        import tempfile

        os.environ["SKMDL_CACHE"] = tempfile.mkdtemp(prefix="skmdl-test-cache-")
    config.addinivalue_line(
        "markers",
        "shared_data: needs SKMDL_DATA pointing at the shared data folder (skipped otherwise)",
    )


@pytest.fixture(scope="session")
def tiny_library(tmp_path_factory):
    """A library of 4 tiny models on 2 synthetic source tasks (built in seconds)."""
    from tinylib import build_tiny

    root = tmp_path_factory.mktemp("tinylib")
    build_tiny(root)
    return root
