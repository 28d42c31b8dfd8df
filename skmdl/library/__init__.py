"""Model library (MDL): safe artifacts, a searchable library, and the shotgun builder."""

from .artifact import ArtifactIntegrityError, MLP, load_artifact, write_artifact
from .builder import BENCHMARK_TARGETS, SourceTask, TrainingConfig, build
from .catalogue import write_catalogue
from .compact import compact_library
from .library import ModelLibrary, source_name

__all__ = [
    "ArtifactIntegrityError",
    "BENCHMARK_TARGETS",
    "MLP",
    "ModelLibrary",
    "SourceTask",
    "TrainingConfig",
    "build",
    "compact_library",
    "load_artifact",
    "source_name",
    "write_artifact",
    "write_catalogue",
]
