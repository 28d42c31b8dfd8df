"""Where benchmark scripts write the tables they print (atomically: never half a table)."""

from pathlib import Path

from skmdl.utils.atomic import write_text

RESULTS = Path(__file__).parent / "results"


def write_result(name: str, text: str) -> Path:
    """Write ``text`` to ``benchmarks/results/<name>`` and return the path."""
    return write_text(RESULTS / name, text.rstrip("\n") + "\n")
