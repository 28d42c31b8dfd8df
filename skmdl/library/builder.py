"""Shotgun builder: many small neural source models per source property.

For each source task, ``n_models`` MLPs with randomly drawn architectures
(1-5 hidden layers, widths, activation, dropout, learning rate, weight decay,
batch size) are trained on the task's descriptors, early-stopped on a
validation split and scored on a held-out test split (Yamada et al., ACS
Cent. Sci. 2019: shotgun transfer learning).

Properties of a build:

* **Seeded**: model ``k`` of task ``t`` draws everything from
  ``SeedSequence([seed, crc32(t), k])`` and trains with one torch thread, so
  the same call gives bit-identical weights on joblib workers, dask workers
  or in-process.
* **Atomic and resumable**: every artifact is written into a temporary folder
  and renamed into place; models already present are skipped, so a build
  killed at any point (even ``kill -9``) is completed by running it again.
* **Parallel**: joblib (``n_jobs``) or a ``dask.distributed`` client
  (``client=``) train the models; data are featurized once per task.

Here: the search space (:class:`TrainingConfig`, :func:`draw_architecture`) and
the build itself. A task's data: :mod:`skmdl.library.tasks`; training one
network: :mod:`skmdl.library.training`; a group at once: :mod:`skmdl.library.batched`.
"""

from __future__ import annotations

import json
import math
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..utils.optional import import_optional
from ..utils.atomic import write_text
from .artifact import (ACTIVATIONS, CARD, WEIGHTS, MLP, card_text, descriptor_spec, read_card,
                       storage_dtype, with_storage, write_artifact)
from .batched import signature, train_mlp_group
from .library import INDEX, index_entry, write_index
from .tasks import SourceTask, prepare_task
from .training import scaling, train_mlp

# SourceTask, prepare_task, scaling and train_mlp live in .tasks and .training; they
# stay importable from here, where they were first.
__all__ = ["BENCHMARK_TARGETS", "SourceTask", "TrainingConfig", "build", "config_as_dict",
           "descriptor_name", "draw_architecture", "model_seed", "prepare_task", "scaling",
           "train_mlp"]

#: Training sets used as transfer *targets* in skmdl's benchmarks: never sources.
BENCHMARK_TARGETS = (
    "matbench_steels", "matbench_expt_gap", "matbench_expt_is_metal", "matbench_glass",
    "matbench_jdft2d", "matbench_phonons", "aflow_agl_thermal_conductivity_300k",
)


@dataclass
class TrainingConfig:
    """Search space and training loop of the shotgun builder."""

    n_layers: tuple = (1, 5)
    widths: tuple = (32, 64, 128, 256)
    activations: tuple = ACTIVATIONS
    dropout: tuple = (0.0, 0.05, 0.1, 0.2)
    lr: tuple = (3e-4, 3e-3)
    weight_decay: tuple = (1e-6, 1e-3)
    batch_sizes: tuple = (128, 256, 512)
    max_epochs: int = 200
    patience: int = 15
    max_train: int | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    loss: str = "huber"
    schedule: str = "constant"
    min_steps: int | None = None
    extra: dict = field(default_factory=dict)


def model_seed(seed: int, task: str, k: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), zlib.crc32(task.encode()), int(k)])


def draw_architecture(ss: np.random.SeedSequence, config: TrainingConfig) -> dict:
    """Random architecture and optimizer settings (widths non-increasing with depth).

    Examples
    --------
    >>> config = TrainingConfig()
    >>> arch = draw_architecture(model_seed(0, "oqmd_bandgap", 0), config)
    >>> arch == draw_architecture(model_seed(0, "oqmd_bandgap", 0), config)  # seeded
    True
    >>> arch["hidden"] == sorted(arch["hidden"], reverse=True), sorted(arch)
    (True, ['activation', 'batch_size', 'dropout', 'hidden', 'lr', 'torch_seed', 'weight_decay'])
    """
    rng = np.random.default_rng(ss)
    n_layers = int(rng.integers(config.n_layers[0], config.n_layers[1] + 1))
    widths = sorted(rng.choice(config.widths, size=n_layers), reverse=True)
    log_uniform = lambda lo, hi: float(math.exp(rng.uniform(math.log(lo), math.log(hi))))  # noqa: E731
    return {
        "hidden": [int(w) for w in widths],
        "activation": str(rng.choice(config.activations)),
        "dropout": float(rng.choice(config.dropout)),
        "lr": log_uniform(*config.lr),
        "weight_decay": log_uniform(*config.weight_decay),
        "batch_size": int(rng.choice(config.batch_sizes)),
        "torch_seed": int(rng.integers(2**31 - 1)),
    }


def _train_job(data, arch, config, device):
    return train_mlp(*data, arch, config, device)


# ------------------------------------------------------------------ build

class LibraryFolder:
    """The library folder a build writes: its models, index rows and what was trained."""

    def __init__(self, root: Path, name: str):
        self.root, self.name = root, name
        self.models_dir = root / "models"
        self.entries, self.present, self.trained, self.skipped = {}, set(), [], []

    @classmethod
    def open(cls, root: Path, name: str) -> "LibraryFolder":
        """The folder (created), cleaned of temporaries, with the models already in it."""
        import shutil

        lib = cls(root, name)
        lib.models_dir.mkdir(parents=True, exist_ok=True)
        for p in lib.models_dir.iterdir():
            if p.name.startswith(".") and p.name.endswith((".tmp", ".old")):
                shutil.rmtree(p, ignore_errors=True)  # left by a killed build
        lib.present = {p.name for p in lib.models_dir.iterdir()
                       if p.is_dir() and not p.name.startswith(".")
                       and (p / CARD).is_file() and (p / WEIGHTS).is_file()}
        lib.entries = lib._earlier_entries()
        return lib

    def _earlier_entries(self) -> dict:
        """Index rows of the artifacts present; rows of an earlier index are reused."""
        old = {}
        if (self.root / INDEX).is_file():
            try:
                with open(self.root / INDEX) as fh:
                    old = {e["id"]: e for e in json.load(fh).get("models", [])}
            except (ValueError, KeyError):
                old = {}
        return {model_id: old.get(model_id) or index_entry(self.root, f"models/{model_id}")
                for model_id in self.present}

    def add(self, model_id, module, card) -> None:
        """Write one artifact and its index row (the index itself every 10 models).

        The weight matrices are stored in float16 when that changes the
        predictions by less than :data:`~skmdl.library.artifact.FLOAT16_TOLERANCE`.
        """
        dtype, change = storage_dtype(module)
        card = with_storage(card, module, dtype, change)
        hashes = write_artifact(self.models_dir / model_id, module, card, dtype)
        self.entries[model_id] = index_entry(self.root, f"models/{model_id}", hashes)
        self.trained.append(model_id)
        if len(self.trained) % 10 == 0:
            self.write_index()

    def write_index(self) -> None:
        write_index(self.root, list(self.entries.values()), self.name)

    def refresh_metadata(self, model_ids, source) -> None:
        """Bring the descriptive card fields of models already built up to date with ``source``.

        Only :func:`source_metadata`'s fields (property, quantity, fidelity,
        ...) are rewritten, never weights, training record or metrics; the
        card is replaced atomically and its index row re-hashed.
        """
        meta = source_metadata(source)
        for model_id in model_ids:
            folder = self.models_dir / model_id
            card = read_card(folder)
            if all(card.get(k) == v for k, v in meta.items()):
                continue
            write_text(folder / CARD, card_text({**card, **meta}))
            self.entries[model_id] = index_entry(self.root, f"models/{model_id}")


def build(sources, out_dir, featurizer=None, n_models=5, seed=0, config=None, n_jobs=1,
          client=None, device="cpu", name="", data=None, progress=False, excluded=BENCHMARK_TARGETS,
          group_size=1):
    """Train ``n_models`` source models per source task into a library folder.

    Parameters
    ----------
    sources : list of SourceTask
    out_dir : path
        Library folder (created); ``index.json`` and ``models/<id>/`` inside.
    featurizer : transformer, default CompositionFeaturizer(stats="all", stoichiometry=True)
    n_models : int
        Models per task; ids are ``"{task}-{k:03d}"``.
    seed : int
    config : TrainingConfig
    n_jobs : int
        joblib workers (ignored when ``client`` is given).
    client : dask.distributed.Client, optional
        Train on a dask cluster instead of joblib.
    device : str
        torch device for training.
    name : str
        Library name recorded in the index.
    data : dict, optional
        ``{task: (X, y)}`` or ``{task: (X, y, split)}`` to use instead of
        ``skmdl.datasets.load_task`` (e.g. for tests or a user's own data).
    progress : bool
        tqdm progress bar over models.
    excluded : sequence of str
        Tasks that must never be used as sources (benchmark targets); a
        source naming one raises ``ValueError``. Recorded in every card.
    group_size : int, default=1
        With ``group_size > 1``, consecutive models ``k`` of a task form
        groups that share the architecture of the group's first model (their
        learning rate, weight decay and initialisation stay their own) and
        are trained together as one vmapped ensemble (``skmdl.library.batched``):
        the fast path on a GPU, and faster on a CPU too.

    Returns
    -------
    dict with ``trained`` (ids trained now), ``skipped`` (ids already present)
    and ``seconds``.

    Notes
    -----
    The steps:

    1. refuse a source whose task is in ``excluded``;
    2. :meth:`LibraryFolder.open`: remove the temporary folders a killed build left,
       find the models already there and reuse their index rows;
    3. per source task with models missing: prepare its data once
       (:func:`~skmdl.library.tasks.prepare_task`), draw the missing models'
       architectures (:func:`_group_architecture`), train them in-process, on
       joblib workers or on dask (:func:`_run_jobs`), and write each artifact
       with its card (:func:`_card`) and index row (:meth:`LibraryFolder.add`; the
       index is rewritten every 10 models and after each task);
    4. write the final index.
    """
    from tqdm.auto import tqdm

    from ..descriptors import CompositionFeaturizer

    t_start = time.perf_counter()
    config = config or TrainingConfig()
    featurizer = featurizer or CompositionFeaturizer(stats="all", stoichiometry=True)
    refuse_excluded(sources, excluded)
    library = LibraryFolder.open(Path(out_dir), name)
    spec = dict(descriptor_spec(featurizer), name=descriptor_name(featurizer))
    jobs = {"config": config, "device": device, "n_jobs": n_jobs, "client": client,
            "batched": group_size > 1}
    memo = {}  # features of the inputs seen by this build's featurizer
    with tqdm(total=len(sources) * n_models, desc="source models", unit="model",
              disable=not progress) as bar:
        for source in sources:
            ids = [f"{source.prefix}-{k:03d}" for k in range(n_models)]
            todo = [k for k, i in enumerate(ids) if i not in library.present]
            present = [i for i in ids if i in library.present]
            library.skipped += present
            library.refresh_metadata(present, source)
            bar.update(n_models - len(todo))
            if todo:
                given = None if data is None else data.get(source.prefix, data.get(source.task))
                task_data, provenance = prepare_task(source, featurizer, seed, config,
                                                     *(given or ()), memo=memo)
                archs = {k: _group_architecture(seed, source.prefix, k, config, group_size)
                         for k in todo}
                for k, (state, info) in _run_jobs(task_data, archs, **jobs):
                    card = _card(ids[k], source, spec, archs[k], info, provenance, seed, k,
                                 config, excluded)
                    module = _module_from_state(state, archs[k], task_data[0].shape[1])
                    library.add(ids[k], module, card)
                    bar.update(1)
                library.write_index()
    library.write_index()
    return {"trained": library.trained, "skipped": library.skipped,
            "seconds": time.perf_counter() - t_start}


def refuse_excluded(sources, excluded) -> None:
    """ValueError naming the sources whose task is in ``excluded`` (benchmark targets)."""
    bad = [s.task for s in sources if s.task in set(excluded)]
    if bad:
        raise ValueError(f"{bad} are benchmark targets and cannot be source tasks")


def _group_architecture(seed, task, k, config, group_size):
    """Model k's draw; with groups, structural fields come from the group's first model."""
    arch = draw_architecture(model_seed(seed, task, k), config)
    if group_size > 1:
        first = draw_architecture(model_seed(seed, task, k - k % group_size), config)
        for key in ("hidden", "activation", "dropout", "batch_size"):
            arch[key] = first[key]
    return arch


def _train_group_job(data, archs, config, device):
    return train_mlp_group(*data, archs, config, device)


def _run_jobs(task_data, archs, config, device, n_jobs, client, batched=False):
    """Yield ``(k, (state, info))`` as models finish."""
    if batched:
        groups: dict = {}
        for k, arch in archs.items():
            groups.setdefault(signature(arch), []).append(k)
        keys = list(groups.values())
        jobs = [(_train_group_job, [archs[k] for k in ks]) for ks in keys]
    else:
        keys = [[k] for k in archs]
        jobs = [(_train_job, archs[k]) for k in archs]
    if client is not None:
        as_completed = import_optional("dask.distributed", "training on a dask cluster").as_completed

        data_future = client.scatter(task_data, broadcast=True)
        futures = {client.submit(fn, data_future, a, config, device, pure=False): ks
                   for (fn, a), ks in zip(jobs, keys)}
        for fut in as_completed(list(futures)):
            yield from _unpack(futures[fut], fut.result(), batched)
        return
    if n_jobs in (None, 1):
        for (fn, a), ks in zip(jobs, keys):
            yield from _unpack(ks, fn(task_data, a, config, device), batched)
        return
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(fn)(task_data, a, config, device) for fn, a in jobs
    )
    for ks, result in zip(keys, results):
        yield from _unpack(ks, result, batched)


def _unpack(ks, result, batched):
    if batched:
        yield from zip(ks, result)
    else:
        yield ks[0], result


def _module_from_state(state, arch, n_in):
    import torch

    module = MLP(n_in, arch["hidden"], arch["activation"], arch["dropout"])
    module.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
    return module.eval()


def descriptor_name(featurizer) -> str:
    """Short descriptor tag for search, e.g. ``"composition:magpie:all+stoich"``.

    Examples
    --------
    >>> from skmdl.descriptors import CompositionFeaturizer
    >>> descriptor_name(CompositionFeaturizer(stats="all", stoichiometry=True))
    'composition:magpie:all+stoich'
    """
    p = featurizer.get_params(deep=False)
    if type(featurizer).__name__ == "CompositionFeaturizer":
        stats = p["stats"] if isinstance(p["stats"], str) else "-".join(p["stats"])
        extra = ("+stoich" if p.get("stoichiometry") else "") + (
            "+frac" if p.get("element_fractions") else "")
        return f"composition:{p['elements']}:{stats}{extra}"
    molecule = {"RDKitDescriptors": "rdkit2d", "MorganFingerprint": "morgan",
                "MACCSKeys": "maccs"}.get(type(featurizer).__name__)
    if molecule is not None:
        if p.get("polymer"):
            repeat = "" if p["polymer"] == "cap" else str(p["n_repeat"])
            return f"polymer:{molecule}:{p['polymer']}{repeat}"
        return f"molecule:{molecule}"
    if type(featurizer).__name__ == "OrbitalFieldMatrixFeaturizer":
        return f"structure:ofm:{p['neighbors']}{p['cutoff']:g}"
    return type(featurizer).__name__


def source_metadata(source) -> dict:
    """The card fields that describe what a source predicts (from its :class:`SourceTask`).

    ``max_elements`` and ``transform`` appear only when set.

    Examples
    --------
    >>> meta = source_metadata(SourceTask("oqmd_formation_enthalpy", "formation enthalpy (OQMD)",
    ...                                   "formation energy", "eV/atom", fidelity="DFT, OQMD",
    ...                                   max_elements=3))
    >>> meta["fidelity"], meta["max_elements"], "transform" in meta
    ('DFT, OQMD', 3, False)
    """
    meta = {"property": source.property, "quantity": source.quantity, "unit": source.unit,
            "kind": source.kind, "fidelity": source.fidelity, "license": source.source}
    if source.max_elements is not None:
        meta["max_elements"] = int(source.max_elements)
    if source.transform is not None:
        meta["transform"] = source.transform
    return meta


def _card(model_id, source, spec, arch, info, provenance, seed, k, config, excluded) -> dict:
    return {
        "id": model_id,
        **source_metadata(source),
        "descriptor": spec,
        "architecture": {
            "type": "mlp",
            "n_in": spec["n_features"],
            "hidden": arch["hidden"],
            "activation": arch["activation"],
            "dropout": arch["dropout"],
            "n_out": 1,
            "input_scaling": "standardize with x_mean/x_scale tensors; NaN inputs -> mean",
            "output_scaling": "y = out * y_scale + y_mean (tensors)",
        },
        "training": {
            **provenance,
            "seed": seed,
            "model_index": k,
            "optimizer": "AdamW",
            "lr": arch["lr"],
            "weight_decay": arch["weight_decay"],
            "batch_size": arch["batch_size"],
            "loss": config.loss,
            "max_epochs": info.get("max_epochs", config.max_epochs),
            "patience": info.get("patience", config.patience),
            "min_steps": config.min_steps,
            "lr_schedule": config.schedule,
            "epochs": info["epochs"],
            "best_epoch": info["best_epoch"],
            "seconds": round(info["train_seconds"], 3),
            "torch_seed": arch["torch_seed"],
            "trained_together": info.get("batched_with", 1),
        },
        "metrics": {**info["metrics"], "split": "test"},
        "n_params": info["n_params"],
        "excluded_targets": list(excluded),
        "excluded_note": "benchmark transfer targets are never used as source data",
        "skmdl_version": __version__,
    }


def config_as_dict(config: TrainingConfig) -> dict:
    return asdict(config)
