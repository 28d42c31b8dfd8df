"""A remote library over HTTP, served by a local server started by the test."""

import functools
import http.server
import shutil
import threading

import numpy as np
import pytest

from skmdl.library import ArtifactIntegrityError, ModelLibrary
from skmdl.library.artifact import WEIGHTS, sha256_file


@pytest.fixture
def served(tiny_library, tmp_path):
    root = tmp_path / "served"
    shutil.copytree(tiny_library, root)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_remote_library_fetches_and_verifies(served, tmp_path, tiny_library):
    root, url = served
    cache = tmp_path / "cache"
    lib = ModelLibrary(url, index_sha256=sha256_file(root / "index.json"), cache_dir=cache)
    assert lib.ids == ModelLibrary(tiny_library).ids
    X = ["Fe2O3", "NaCl"]
    np.testing.assert_array_equal(lib.predict("toy_a-000", X),
                                  ModelLibrary(tiny_library).predict("toy_a-000", X))
    assert any(p.name == WEIGHTS for p in cache.rglob("*"))
    assert lib.verify()["ok"].all()


def test_remote_index_checksum_mismatch(served, tmp_path):
    _, url = served
    with pytest.raises(ArtifactIntegrityError):
        ModelLibrary(url, index_sha256="0" * 64, cache_dir=tmp_path / "c")


def test_remote_tampered_weights(served, tmp_path):
    root, url = served
    lib = ModelLibrary(url, cache_dir=tmp_path / "c2")
    w = root / "models" / "toy_b-000" / WEIGHTS
    w.write_bytes(w.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ArtifactIntegrityError, match="toy_b-000"):
        lib.load("toy_b-000")
    # nothing unverified is left in the cache under the artifact's name
    cached = list((tmp_path / "c2").rglob("toy_b-000/" + WEIGHTS))
    assert not cached
