"""Loaders for the shared composition tasks and the bundled sample data sets.

The real data live outside the package, in the folder named by the environment
variable ``SKMDL_DATA`` (see its ``README.md``); every table of
``$SKMDL_DATA/composition`` is a gzip CSV with the columns
``formula, target[, split]``. Two small excerpts of Matbench are bundled with
the package (``skmdl/datasets/data``) so examples and tests run without it.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from ._home import DATA_ENV, DataNotFoundError, data_hint, data_home
from ._smiles import SMILES_TASKS, load_smiles_task, smiles_task_path
from ._structure_tasks import STRUCTURE_TASKS, load_structure_task, structure_task_path

#: Seed of matbench v0.1's official 5-fold splits.
MATBENCH_SEED = 18012019

#: Composition tasks documented in the shared data folder's README.
KNOWN_TASKS = (
    "aflow_ael_bulk_modulus_vrh",
    "aflow_ael_shear_modulus_vrh",
    "aflow_agl_thermal_conductivity_300k",
    "aflow_egap",
    "aflow_energy_atom",
    "critexam_ed",
    "critexam_ef",
    "matbench_dielectric",
    "matbench_expt_gap",
    "matbench_expt_is_metal",
    "matbench_glass",
    "matbench_jdft2d",
    "matbench_log_gvrh",
    "matbench_log_kvrh",
    "matbench_mp_e_form",
    "matbench_mp_gap",
    "matbench_mp_is_metal",
    "matbench_perovskites",
    "matbench_phonons",
    "matbench_steels",
    "mp_bulk_modulus",
    "mp_e_hull",
    "mp_mu_b",
    "mp_shear_modulus",
    "oqmd_bandgap",
    "oqmd_energy_per_atom",
    "oqmd_formation_enthalpy",
    "oqmd_volume_per_atom",
)

#: Binary classification tasks (target 0/1); all other tasks are regression.
CLASSIFICATION_TASKS = frozenset(
    {"matbench_expt_is_metal", "matbench_glass", "matbench_mp_is_metal"}
)

_SUFFIX = ".csv.gz"
_SAMPLE_PACKAGE = "skmdl.datasets"
_SAMPLE_DIR = "data"


def _tasks_in(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        p.name[: -len(_SUFFIX)]
        for p in folder.iterdir()
        if p.name.endswith(_SUFFIX) and p.is_file()
    )


def list_tasks() -> list[str]:
    """List the composition tasks available under ``$SKMDL_DATA/composition``.

    Returns
    -------
    list of str
        Sorted task names: the file names without ``.csv.gz``.

    Raises
    ------
    DataNotFoundError
        If ``SKMDL_DATA`` is unset or its ``composition`` folder is missing.

    See Also
    --------
    load_task : load one of them.

    Examples
    --------
    >>> from skmdl.datasets import list_tasks
    >>> tasks = list_tasks()  # needs SKMDL_DATA
    >>> "matbench_steels" in tasks
    True
    >>> tasks == sorted(tasks)
    True
    """
    folder = data_home() / "composition"
    if not folder.is_dir():
        raise DataNotFoundError(f"no composition folder at {folder}: {data_hint()}")
    return _tasks_in(folder)


def _unknown_task(name: str, candidates) -> ValueError:
    candidates = sorted(set(candidates))
    close = [c for c in candidates if name.lower() in c.lower()] if name else []
    fuzzy = difflib.get_close_matches(name, candidates, n=3, cutoff=0.8)
    close += [c for c in fuzzy if c not in close]
    hint = f"; close matches: {close[:5]}" if close else ""
    return ValueError(
        f"unknown task {name!r}{hint}. See skmdl.datasets.list_tasks() for all tasks"
    )


def _check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"task name must be a str, got {type(name).__name__}")
    return name


def _read_table(path_or_buffer, name: str) -> pd.DataFrame:
    # keep_default_na=False: "NaN" (sodium nitride) and "NA" are valid formulas.
    df = pd.read_csv(
        path_or_buffer,
        compression="gzip",
        dtype={"formula": str, "split": str},
        keep_default_na=False,
        na_values={"target": ["", "NaN", "nan", "NA"]},
    )
    missing = {"formula", "target"} - set(df.columns)
    if missing:
        raise ValueError(f"table {name!r} lacks the column(s) {sorted(missing)}")
    return df


def _to_xy(df: pd.DataFrame, name: str, index=None):
    X = pd.Series(df["formula"].to_numpy(dtype=object), index=index, name="formula")
    y = pd.to_numeric(df["target"], errors="raise").astype(np.float64)
    values = y.to_numpy()
    integral = np.isfinite(values).all() and (values == np.round(values)).all()
    if name in CLASSIFICATION_TASKS and integral:
        values = values.astype(np.int64)
    y = pd.Series(values, index=X.index, name=name)
    return X, y


def load_task(name: str, return_split: bool = False):
    """Load a composition task of the shared data folder.

    Parameters
    ----------
    name : str
        Task name, one of :func:`list_tasks` (e.g. ``"matbench_expt_gap"``),
        or a molecule / polymer task of ``SMILES_TASKS`` (e.g.
        ``"qm9_gap"``, ``"radonpy_density"``, ``"polyinfo_tg"``): then ``X``
        holds SMILES (name ``"smiles"``), only rows with a value of the
        property are returned (the index is their row in the file) and
        there is no split. A structure task of ``STRUCTURE_TASKS``
        (``"mp2018_e_form"``, ``"mp2018_gap_pbe"``: MEGNet's MP-2018 set and
        split) gives pymatgen Structures, built as they are read.
    return_split : bool, default=False
        Also return the published train/val/test assignment.

    Returns
    -------
    X : pandas.Series of str, name ``"formula"``
        Chemical formulas, in the file's row order (index ``0..n-1``).
    y : pandas.Series, name ``name``
        Targets: float64 for regression; int64 (0/1) for the classification
        tasks (see :func:`is_classification`).
    split : pandas.Series of str or None
        Only when ``return_split=True``: the ``split`` column (name
        ``"split"``: ``"train"``, ``"val"`` or ``"test"``), or ``None`` when the
        task has none (the matbench tasks: use :func:`matbench_folds`).

    Raises
    ------
    DataNotFoundError
        If ``SKMDL_DATA`` is unset, or the task is a known one whose file is
        missing (the message names the expected path).
    ValueError
        If the task is unknown (the message lists close matches).

    Notes
    -----
    Formulas are read verbatim: the string ``"NaN"`` is sodium nitride, not a
    missing value.

    See Also
    --------
    load_sample : small bundled excerpts that need no ``SKMDL_DATA``.

    Examples
    --------
    >>> from skmdl.datasets import load_task
    >>> X, y = load_task("matbench_steels")  # needs SKMDL_DATA
    >>> len(X), X.name, y.name
    (312, 'formula', 'matbench_steels')
    >>> X, y, split = load_task("aflow_egap", return_split=True)
    >>> sorted(split.unique())
    ['test', 'train', 'val']
    """
    name = _check_name(name)
    if name in SMILES_TASKS or name in STRUCTURE_TASKS:
        path = task_path(name)
        if not path.is_file():
            raise DataNotFoundError(f"the file of task {name!r} is missing: {path} ({data_hint()})")
        if name in STRUCTURE_TASKS:
            return load_structure_task(data_home(), name, return_split)
        X, y = load_smiles_task(data_home(), name)
        return (X, y, None) if return_split else (X, y)
    folder = data_home() / "composition"
    path = folder / f"{name}{_SUFFIX}"
    on_disk = _tasks_in(folder)
    if name not in on_disk:
        if name in KNOWN_TASKS:
            raise DataNotFoundError(f"the file of task {name!r} is missing: {path} ({data_hint()})")
        raise _unknown_task(name, [*KNOWN_TASKS, *SMILES_TASKS, *STRUCTURE_TASKS, *on_disk])
    df = _read_table(path, name)
    X, y = _to_xy(df, name)
    if not return_split:
        return X, y
    split = None
    if "split" in df:  # an all-empty column (the MP transport tables) is no split
        values = df["split"].fillna("").astype(str).str.strip()
        if (values != "").any():
            split = pd.Series(values.to_numpy(dtype=object), name="split")
    return X, y, split


def task_path(name: str) -> Path:
    """File under ``$SKMDL_DATA`` holding a task (composition or SMILES task).

    Examples
    --------
    >>> from skmdl.datasets import task_path
    >>> task_path("qm9_gap").name  # needs SKMDL_DATA
    'qm9_subset.csv.gz'
    """
    name = _check_name(name)
    if name in SMILES_TASKS:
        return smiles_task_path(data_home(), name)
    if name in STRUCTURE_TASKS:
        return structure_task_path(data_home(), name)
    return data_home() / "composition" / f"{name}{_SUFFIX}"


def is_classification(name: str) -> bool:
    """Whether a task is a (binary) classification task.

    Parameters
    ----------
    name : str
        Task name.

    Returns
    -------
    bool
        ``True`` for ``matbench_expt_is_metal``, ``matbench_glass`` and
        ``matbench_mp_is_metal``; ``False`` for the other (regression) tasks.

    Raises
    ------
    ValueError
        If the task is neither documented nor present in ``$SKMDL_DATA``.

    Examples
    --------
    >>> from skmdl.datasets import is_classification
    >>> is_classification("matbench_glass")
    True
    >>> is_classification("matbench_expt_gap")
    False
    """
    name = _check_name(name)
    if name in CLASSIFICATION_TASKS:
        return True
    if name in KNOWN_TASKS:
        return False
    on_disk = _tasks_in(data_home() / "composition")
    if name in on_disk:
        return False
    raise _unknown_task(name, list(KNOWN_TASKS) + on_disk)


def matbench_folds(name: str, X=None, y=None):
    """Matbench v0.1's official 5 cross-validation folds of a matbench task.

    ``KFold(5, shuffle=True, random_state=18012019)`` over the rows for
    regression, ``StratifiedKFold`` with the same seed (stratified on ``y``)
    for classification, as matbench does; the rows must be in matbench's
    order (as returned by :func:`load_task`).

    Parameters
    ----------
    name : str
        A ``matbench_*`` task name.
    X : sequence, optional
        The task's inputs; only their number is used. Loaded when neither
        ``X`` nor ``y`` is given.
    y : sequence, optional
        The task's targets (needed for classification; loaded with
        :func:`load_task` if missing).

    Returns
    -------
    list of 5 (train_idx, test_idx) tuples of int ndarrays
        Positional row indices; each row is in exactly one test fold.

    Raises
    ------
    ValueError
        If ``name`` is not a matbench task, or ``X`` and ``y`` differ in length.

    Examples
    --------
    >>> from skmdl.datasets import load_sample, matbench_folds
    >>> X, y = load_sample("matbench_steels")  # the full task, bundled
    >>> folds = matbench_folds("matbench_steels", X, y)
    >>> [len(test) for train, test in folds]
    [63, 63, 62, 62, 62]
    >>> folds[0][1][:5]  # matbench's fold 0: mb-steels-003, -005, -020, ...
    array([ 2,  4, 19, 25, 26])
    """
    name = _check_name(name)
    if not name.startswith("matbench_"):
        raise ValueError(
            f"{name!r} is not a matbench task; use load_task(name, return_split=True) "
            f"for the published split of the other tasks"
        )
    clf = is_classification(name)
    if y is None and (X is None or clf):
        X_loaded, y = load_task(name)
        if X is None:
            X = X_loaded
    n = len(X) if X is not None else len(y)
    if y is not None and len(y) != n:
        raise ValueError(f"X and y have different lengths ({n} != {len(y)})")
    if clf:
        cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=MATBENCH_SEED)
        splits = cv.split(np.zeros((n, 1)), np.asarray(y))
    else:
        cv = KFold(n_splits=5, shuffle=True, random_state=MATBENCH_SEED)
        splits = cv.split(np.zeros((n, 1)))
    return [(train, test) for train, test in splits]


# --------------------------------------------------------------------------
# bundled samples
# --------------------------------------------------------------------------

#: Bundled samples: name -> (source task, number of rows or None for all).
SAMPLES = {
    "matbench_expt_gap_1000": ("matbench_expt_gap", 1000),
    "matbench_steels": ("matbench_steels", None),
}
_SAMPLE_SEED = 0


def list_samples() -> list[str]:
    """List the small data sets bundled with the package.

    Returns
    -------
    list of str
        Sorted sample names, for :func:`load_sample`.

    Examples
    --------
    >>> from skmdl.datasets import list_samples
    >>> list_samples()
    ['matbench_expt_gap_1000', 'matbench_steels']
    """
    folder = resources.files(_SAMPLE_PACKAGE).joinpath(_SAMPLE_DIR)
    return sorted(
        p.name[: -len(_SUFFIX)] for p in folder.iterdir() if p.name.endswith(_SUFFIX)
    )


def load_sample(name: str):
    """Load a small data set bundled with the package (no ``SKMDL_DATA`` needed).

    Two excerpts of Matbench v0.1 (Dunn et al., npj Comput. Mater. 6, 138
    (2020), CC-BY 4.0) are bundled:

    * ``"matbench_steels"``: the full task (312 steel compositions, yield
      strength in MPa);
    * ``"matbench_expt_gap_1000"``: 1000 rows drawn at random (seed 0,
      without replacement, kept in file order) from ``matbench_expt_gap``
      (experimental band gaps, eV).

    Parameters
    ----------
    name : str
        One of :func:`list_samples`.

    Returns
    -------
    X : pandas.Series of str, name ``"formula"``
        Formulas. The index (name ``"row"``) is each row's position in the
        full task, so ``load_task(task)[0].loc[X.index]`` gives the same rows
        and :func:`matbench_folds` of the full task can be related to them.
    y : pandas.Series of float, name ``name``
        Targets.

    Examples
    --------
    >>> from skmdl.datasets import load_sample
    >>> X, y = load_sample("matbench_expt_gap_1000")
    >>> len(X), y.name, X.index.name
    (1000, 'matbench_expt_gap_1000', 'row')
    >>> X, y = load_sample("matbench_steels")
    >>> float(y.iloc[0])
    2411.5
    """
    name = _check_name(name)
    available = list_samples()
    if name not in available:
        close = difflib.get_close_matches(name, available, n=3, cutoff=0.4)
        hint = f"; did you mean {close}?" if close else ""
        raise ValueError(f"unknown sample {name!r}{hint} Available: {available}")
    res = resources.files(_SAMPLE_PACKAGE).joinpath(f"{_SAMPLE_DIR}/{name}{_SUFFIX}")
    with res.open("rb") as fh:
        df = _read_table(fh, name)
    index = pd.Index(df["row"].astype(np.int64).to_numpy(), name="row")
    return _to_xy(df, name, index=index)


def build_samples(out_dir) -> list[Path]:
    """Regenerate the bundled sample files from ``$SKMDL_DATA`` (maintainers only).

    Rows are copied verbatim (text, not re-formatted numbers); the gzip
    header carries no time stamp, so the files are reproducible byte for byte.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for sample, (task, n) in SAMPLES.items():
        path = data_home() / "composition" / f"{task}{_SUFFIX}"
        df = pd.read_csv(path, dtype=str, keep_default_na=False)[["formula", "target"]]
        df.insert(0, "row", np.arange(len(df)))
        if n is not None:
            rng = np.random.default_rng(_SAMPLE_SEED)
            df = df.iloc[np.sort(rng.choice(len(df), size=n, replace=False))]
        out = out_dir / f"{sample}{_SUFFIX}"
        df.to_csv(out, index=False, compression={"method": "gzip", "mtime": 0})
        written.append(out)
    return written
