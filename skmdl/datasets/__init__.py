"""Data sets: the shared composition tasks (``$SKMDL_DATA``) and bundled samples.

The shared data folder is named by the environment variable ``SKMDL_DATA``
(never hard-coded). ``load_sample`` works offline with two small excerpts of
Matbench bundled in the package.
"""

from ._base import (
    CLASSIFICATION_TASKS,
    DATA_ENV,
    KNOWN_TASKS,
    MATBENCH_SEED,
    DataNotFoundError,
    data_home,
    is_classification,
    list_samples,
    list_tasks,
    load_sample,
    load_task,
    matbench_folds,
    task_path,
)
from ._smiles import SMILES_TASKS
from ._structure_tasks import STRUCTURE_TASKS, StructureColumn
from .structures import PoolError, load_structures, table_structure

__all__ = [
    "CLASSIFICATION_TASKS",
    "DATA_ENV",
    "KNOWN_TASKS",
    "MATBENCH_SEED",
    "DataNotFoundError",
    "data_home",
    "is_classification",
    "list_samples",
    "list_tasks",
    "load_sample",
    "load_task",
    "matbench_folds",
    "SMILES_TASKS",
    "STRUCTURE_TASKS",
    "StructureColumn",
    "PoolError",
    "load_structures",
    "table_structure",
    "task_path",
]
