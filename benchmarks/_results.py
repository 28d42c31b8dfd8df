"""Where benchmark scripts write the tables they print."""

from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def write_result(name: str, text: str) -> Path:
    """Write ``text`` to ``benchmarks/results/<name>`` and return the path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.write_text(text.rstrip("\n") + "\n")
    return path
