"""The documentation builds with warnings as errors, API reference and gallery included.

The build runs on a copy of ``doc/`` (sphinx-gallery and autosummary write
into the source folder) and executes only the examples of ``EXAMPLES``, which
need no ``SKMDL_DATA``; every other example still gets its page, without
outputs. ``doc/conf.py`` reads the choice from ``SKMDL_DOCS_EXAMPLES``.
Intersphinx stays off (``SKMDL_DOCS_INTERSPHINX`` unset): no network.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "doc"
#: gallery examples executed by the test build (bundled data only, ~15 s each on one core)
EXAMPLES = ("plot_uq_calibration.py",)


@pytest.fixture(scope="module")
def built_docs(tmp_path_factory):
    pytest.importorskip("sphinx_gallery")
    pytest.importorskip("numpydoc")
    tmp = tmp_path_factory.mktemp("docs")
    src = tmp / "doc"
    shutil.copytree(DOC, src, ignore=shutil.ignore_patterns(
        "_build", "generated", "auto_examples", "sg_execution_times.rst", "__pycache__"))
    env = dict(os.environ)
    env.pop("SKMDL_DOCS_INTERSPHINX", None)
    env.update(
        SKMDL_DOCS_EXAMPLES=",".join(EXAMPLES),
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        MPLBACKEND="agg",
        OMP_NUM_THREADS="1",
    )
    html = tmp / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q",
         "-d", str(tmp / "doctrees"), str(src), str(html)],
        cwd=tmp, env=env, capture_output=True, text=True, timeout=900,
    )
    return proc, html


def test_docs_build_without_warnings(built_docs):
    proc, _ = built_docs
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr[-6000:]


def test_every_page_is_built(built_docs):
    proc, html = built_docs
    assert proc.returncode == 0
    pages = ["index", "install", "quickstart", "user_guide", "api", "guide/descriptors",
             "guide/datasets", "guide/library", "guide/transfer", "guide/csp", "guide/cli",
             "auto_examples/index", "generated/skmdl.transfer.TransferRegressor"]
    missing = [p for p in pages if not (html / f"{p}.html").is_file()]
    assert not missing, missing
    examples = sorted(p.stem for p in (DOC / "examples").glob("plot_*.py"))
    assert examples
    missing = [e for e in examples if not (html / "auto_examples" / f"{e}.html").is_file()]
    assert not missing, f"gallery pages missing: {missing}"


def test_executed_examples_have_outputs_and_images(built_docs):
    proc, html = built_docs
    assert proc.returncode == 0
    for example in EXAMPLES:
        stem = Path(example).stem
        images = sorted((html / "_images").glob(f"sphx_glr_{stem}_0*.png"))
        assert images, f"{example}: no figure in the built gallery"
        page = (html / "auto_examples" / f"{stem}.html").read_text(encoding="utf-8")
        assert "sphx-glr-script-out" in page, f"{example}: no printed output on its page"
