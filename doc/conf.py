"""Sphinx configuration for the skmdl documentation.

Environment variables:

``SKMDL_DOCS_EXAMPLES``
    Which gallery examples are executed: a comma-separated list of file names
    (``plot_uq_calibration.py,plot_composition_transfer.py``), ``none``, or
    unset/``all`` for every example. Examples that are not executed still get
    their page, without outputs. Several examples read ``$SKMDL_DATA``.
``SKMDL_DOCS_INTERSPHINX``
    ``1`` links to the Python, NumPy, pandas and scikit-learn docs
    (intersphinx downloads their inventories, so it needs the network).
    Off by default: the build works offline.
"""

import os
import re
import sys
from pathlib import Path

# the checkout's package, also when skmdl is not installed into this interpreter
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MPLBACKEND", "agg")
# The examples are small: torch's thread pool costs more than it saves on them
# (CHGNet on 2 busy cores: several times slower with 2 threads than with 1).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# sphinx-gallery runs the examples inside doc/examples: a relative SKMDL_DATA
# would point elsewhere there, so resolve it against the build's starting folder.
if os.environ.get("SKMDL_DATA") and not os.path.isabs(os.path.expanduser(os.environ["SKMDL_DATA"])):
    os.environ["SKMDL_DATA"] = os.path.abspath(os.path.join(
        os.environ.get("PWD", os.getcwd()), os.path.expanduser(os.environ["SKMDL_DATA"])))

import skmdl  # noqa: E402

project = "skmdl"
author = "skmdl developers"
copyright = "skmdl developers, BSD-3-Clause"
release = version = skmdl.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "examples/*.txt", "**/*.ipynb", "**/*.zip", "**/*.py",
                    "**/*.codeobj.json", "**/*.md5"]
html_theme = "alabaster"
html_static_path = []

autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters section says it
# an override without a docstring would show the base class's (FLAML's, torch's) rst
autodoc_inherit_docstrings = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

if os.environ.get("SKMDL_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "pandas": ("https://pandas.pydata.org/docs", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }


def _examples_pattern():
    """sphinx-gallery ``filename_pattern`` from ``SKMDL_DOCS_EXAMPLES``."""
    chosen = os.environ.get("SKMDL_DOCS_EXAMPLES", "all").strip()
    if chosen in ("", "all"):
        return r"/plot_"
    if chosen == "none":
        return r"^$"  # matches no path: nothing is executed
    names = [n.strip() for n in chosen.split(",") if n.strip()]
    return "|".join(rf"/{re.escape(n)}$" for n in names)


sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": _examples_pattern(),
    "ignore_pattern": r"__init__\.py|/_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skmdl",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skmdl": None},
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "plot_gallery": "True",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document the members a class defines or inherits from skmdl, not scikit-learn's or torch's."""
    if what not in ("class", "exception") or skip:
        return None
    target = obj.fget if isinstance(obj, property) else getattr(obj, "__func__", obj)
    if not (getattr(target, "__module__", None) or "").startswith("skmdl"):
        return True
    return None


def _write_cli_reference(app):
    """``--help`` of every ``skmdl`` command into generated/cli_reference.inc (see guide/cli.rst).

    Generated from the argparse parser at build time, so the page follows the CLI.
    """
    import argparse

    from skmdl.cli import build_parser

    sections = []

    def walk(parser, prog):
        sections.append((prog, parser.format_help()))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{prog} {name}")

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "90"  # argparse wraps help text to the terminal width
    try:
        walk(build_parser(), "skmdl")
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    lines = []
    for prog, text in sections:
        title = f"``{prog}``"
        lines += [title, "~" * len(title), "", ".. code-block:: text", ""]
        lines += [f"    {line}".rstrip() for line in text.splitlines()]
        lines.append("")
    out = Path(app.srcdir) / "generated" / "cli_reference.inc"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if not out.is_file() or out.read_text() != text:  # unchanged file: no rebuild
        out.write_text(text)


def setup(app):
    app.connect("autodoc-skip-member", _skip_foreign_members)
    app.connect("builder-inited", _write_cli_reference)
