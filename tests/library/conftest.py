import pytest
from tinylib import build_tiny


@pytest.fixture(scope="session")
def tiny_library(tmp_path_factory):
    """A library of 4 tiny models on 2 synthetic source tasks."""
    root = tmp_path_factory.mktemp("tinylib")
    build_tiny(root)
    return root
