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
from .artifact import ACTIVATIONS, CARD, WEIGHTS, MLP, descriptor_spec, write_artifact
from .library import INDEX, index_entry, write_index

#: Training sets used as transfer *targets* in skmdl's benchmarks: never sources.
BENCHMARK_TARGETS = (
    "matbench_steels", "matbench_expt_gap", "matbench_expt_is_metal", "matbench_glass",
    "matbench_jdft2d", "matbench_phonons", "aflow_agl_thermal_conductivity_300k",
)


@dataclass
class SourceTask:
    """A source property: where its data come from and how they are cleaned.

    Parameters
    ----------
    task : str
        Data set name (``skmdl.datasets.load_task``), or any name when ``X``
        and ``y`` are given to :func:`build` directly.
    property : str
        Name of the source property, unique in a library (e.g. ``"band gap (OQMD)"``).
    quantity : str
        The physical quantity without provenance (``"band gap"``), so that
        transfer can exclude sources of the same quantity as its target.
    unit : str
    kind : str
        ``"inorganic"``, ``"structure"``, ``"molecule"`` or ``"polymer"``.
    bounds : (float or None, float or None)
        Cleaning rule: rows with targets outside ``[low, high]`` are dropped
        (in addition to non-finite targets and unparsable inputs).
    source : str
        Attribution / licence of the data.
    """

    task: str
    property: str
    quantity: str
    unit: str
    kind: str = "inorganic"
    bounds: tuple = (None, None)
    source: str = ""

    def cleaning_rule(self) -> str:
        lo, hi = self.bounds
        parts = ["drop rows with a non-finite target or an input the featurizer cannot parse"]
        if lo is not None or hi is not None:
            parts.append(f"drop rows with target outside [{lo}, {hi}] {self.unit}")
        return "; ".join(parts)


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
    extra: dict = field(default_factory=dict)


def model_seed(seed: int, task: str, k: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([int(seed), zlib.crc32(task.encode()), int(k)])


def draw_architecture(ss: np.random.SeedSequence, config: TrainingConfig) -> dict:
    """Random architecture and optimizer settings (widths non-increasing with depth)."""
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


def _metrics(y, pred) -> dict:
    err = pred - y
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
        "r2": float(1 - (err**2).sum() / ss_tot) if ss_tot > 0 else float("nan"),
        "n": int(len(y)),
    }


def scaling(F_tr, y_tr):
    """Input and output standardization of a training set: (x_mean, x_scale, y_mean, y_scale).

    NaN-only or constant inputs get mean 0 / scale 1; a constant target scale 1.
    """
    x_mean = np.nanmean(F_tr, axis=0)
    x_scale = np.nanstd(F_tr, axis=0)
    x_mean = np.where(np.isfinite(x_mean), x_mean, 0.0)
    x_scale = np.where(np.isfinite(x_scale) & (x_scale > 1e-12), x_scale, 1.0)
    return x_mean, x_scale, float(np.mean(y_tr)), float(np.std(y_tr)) or 1.0


def train_mlp(F_tr, y_tr, F_va, y_va, F_te, y_te, arch: dict, config: TrainingConfig,
              device: str = "cpu"):
    """Train one MLP; returns ``(state_dict as numpy arrays, info dict)``.

    One torch thread and a private generator make the result depend only on
    the inputs and ``arch["torch_seed"]``.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        torch.manual_seed(arch["torch_seed"])
        gen = torch.Generator().manual_seed(arch["torch_seed"])
        x_mean, x_scale, y_mean, y_scale = scaling(F_tr, y_tr)
        model = MLP(F_tr.shape[1], arch["hidden"], arch["activation"], arch["dropout"])
        with torch.no_grad():
            model.x_mean.copy_(torch.as_tensor(x_mean))
            model.x_scale.copy_(torch.as_tensor(x_scale))
            model.y_mean.fill_(y_mean)
            model.y_scale.fill_(y_scale)
        model.to(device)

        def prep(F, y):
            X = torch.from_numpy(np.array(F, dtype=np.float32)).to(device)  # copy: F may be a read-only memmap
            with torch.no_grad():
                Z = model.standardize(X)
            t = torch.as_tensor(((np.asarray(y) - y_mean) / y_scale).astype(np.float32),
                                device=device)[:, None]
            return Z, t

        Z_tr, t_tr = prep(F_tr, y_tr)
        Z_va, t_va = prep(F_va, y_va)
        loss_fn = torch.nn.HuberLoss() if config.loss == "huber" else torch.nn.MSELoss()
        opt = torch.optim.AdamW(model.parameters(), lr=arch["lr"],
                                weight_decay=arch["weight_decay"])
        n, bs = len(Z_tr), arch["batch_size"]
        best, best_state, best_epoch, epoch = math.inf, None, 0, 0
        for epoch in range(config.max_epochs):
            model.train()
            perm = torch.randperm(n, generator=gen).to(device)
            for i in range(0, n, bs):
                idx = perm[i:i + bs]
                opt.zero_grad()
                loss = loss_fn(model.forward_scaled(Z_tr[idx]), t_tr[idx])
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                val = float(torch.nn.functional.mse_loss(model.forward_scaled(Z_va), t_va))
            if val < best - 1e-7:
                best, best_epoch = val, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            elif epoch - best_epoch >= config.patience:
                break
        model.load_state_dict(best_state)
        model.eval()
        with torch.no_grad():
            pred = model(torch.as_tensor(np.asarray(F_te, dtype=np.float32), device=device))
        pred = pred.cpu().numpy()[:, 0].astype(np.float64)
        state = {k: v.cpu().numpy() for k, v in model.state_dict().items()}
        info = {
            "metrics": _metrics(np.asarray(y_te, dtype=np.float64), pred),
            "epochs": epoch + 1,
            "best_epoch": best_epoch + 1,
            "val_mse_scaled": best,
            "train_seconds": time.perf_counter() - t0,
            "n_params": int(sum(p.numel() for p in model.parameters())),
        }
        return state, info
    finally:
        torch.set_num_threads(threads)


def _train_job(data, arch, config, device):
    return train_mlp(*data, arch, config, device)


# ------------------------------------------------------------------ data

def _sha256_of_file(path) -> str:
    from .artifact import sha256_file

    return sha256_file(path)


def prepare_task(source: SourceTask, featurizer, seed: int, config: TrainingConfig,
                 X=None, y=None, split=None):
    """Load (unless given), clean, featurize and split one source task.

    Returns
    -------
    data : tuple (F_tr, y_tr, F_va, y_va, F_te, y_te)
    provenance : dict for the model card
    """
    from sklearn.base import clone

    data_sha = None
    if X is None:
        from ..datasets import load_task, task_path

        X, y, split = load_task(source.task, return_split=True)
        data_sha = _sha256_of_file(task_path(source.task))
    X = list(X)
    y = np.asarray(y, dtype=np.float64)
    split = None if split is None else np.asarray(split, dtype=object)
    n_raw = len(y)
    f = clone(featurizer).set_params(errors="nan")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        F = f.fit().transform(X).astype(np.float32)
    keep = np.isfinite(y) & ~np.isnan(F).all(axis=1)
    lo, hi = source.bounds
    if lo is not None:
        keep &= y >= lo
    if hi is not None:
        keep &= y <= hi
    F, y = F[keep], y[keep]
    rng = np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(source.task.encode())]))
    if split is not None and set(np.unique(split[keep])) >= {"train", "val", "test"}:
        split = split[keep]
        split_rule = "published split column (train/val/test)"
    else:
        u = rng.random(len(y))
        split = np.where(u < config.test_fraction, "test",
                         np.where(u < config.test_fraction + config.val_fraction, "val", "train"))
        split_rule = (f"random {1 - config.val_fraction - config.test_fraction:.0%}/"
                      f"{config.val_fraction:.0%}/{config.test_fraction:.0%} train/val/test")
    tr = np.flatnonzero(split == "train")
    if config.max_train is not None and len(tr) > config.max_train:
        tr = np.sort(rng.choice(tr, size=config.max_train, replace=False))
        split_rule += f"; training rows subsampled to {config.max_train}"
    va, te = np.flatnonzero(split == "val"), np.flatnonzero(split == "test")
    data = (F[tr], y[tr], F[va], y[va], F[te], y[te])
    provenance = {
        "dataset": source.task,
        "dataset_sha256": data_sha,
        "n_raw": n_raw,
        "n_clean": int(keep.sum()),
        "cleaning": source.cleaning_rule(),
        "split": split_rule,
        "n_train": int(len(tr)),
        "n_val": int(len(va)),
        "n_test": int(len(te)),
    }
    return data, provenance


# ------------------------------------------------------------------ build

def _existing(models_dir: Path) -> set:
    if not models_dir.is_dir():
        return set()
    return {p.name for p in models_dir.iterdir()
            if p.is_dir() and not p.name.startswith(".")
            and (p / CARD).is_file() and (p / WEIGHTS).is_file()}


def _cleanup_temporaries(models_dir: Path) -> None:
    import shutil

    if models_dir.is_dir():
        for p in models_dir.iterdir():
            if p.name.startswith(".") and p.name.endswith(".tmp"):
                shutil.rmtree(p, ignore_errors=True)


def _load_index_entries(root: Path, present: set) -> dict:
    """Index rows of the artifacts present; rows of an earlier index are reused."""
    old = {}
    if (root / INDEX).is_file():
        try:
            with open(root / INDEX) as fh:
                old = {e["id"]: e for e in json.load(fh).get("models", [])}
        except (ValueError, KeyError):
            old = {}
    entries = {}
    for model_id in present:
        e = old.get(model_id)
        entries[model_id] = e if e is not None else index_entry(root, f"models/{model_id}")
    return entries


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
    """
    from ..descriptors import CompositionFeaturizer

    t_start = time.perf_counter()
    config = config or TrainingConfig()
    featurizer = featurizer or CompositionFeaturizer(stats="all", stoichiometry=True)
    bad = [s.task for s in sources if s.task in set(excluded)]
    if bad:
        raise ValueError(f"{bad} are benchmark targets and cannot be source tasks")
    root = Path(out_dir)
    models_dir = root / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    _cleanup_temporaries(models_dir)
    present = _existing(models_dir)
    entries = _load_index_entries(root, present)
    spec = descriptor_spec(featurizer)
    spec["name"] = descriptor_name(featurizer)
    trained, skipped = [], []

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(sources) * n_models, desc="source models", unit="model")

    for source in sources:
        ids = [f"{source.task}-{k:03d}" for k in range(n_models)]
        todo = [k for k, i in enumerate(ids) if i not in present]
        skipped += [i for i in ids if i in present]
        if bar is not None:
            bar.update(n_models - len(todo))
        if not todo:
            continue
        given = None if data is None else data.get(source.task)
        if given is not None:
            X, y, *rest = given
            task_data, provenance = prepare_task(source, featurizer, seed, config, X, y,
                                                 rest[0] if rest else None)
        else:
            task_data, provenance = prepare_task(source, featurizer, seed, config)
        archs = {k: _group_architecture(seed, source.task, k, config, group_size) for k in todo}
        for k, (state, info) in _run_jobs(task_data, archs, config, device, n_jobs, client,
                                          group_size > 1):
            model_id = ids[k]
            card = _card(model_id, source, spec, archs[k], info, provenance, seed, k, config,
                         excluded)
            module = _module_from_state(state, archs[k], task_data[0].shape[1])
            hashes = write_artifact(models_dir / model_id, module, card)
            entries[model_id] = index_entry(root, f"models/{model_id}", hashes)
            trained.append(model_id)
            if len(trained) % 10 == 0:
                write_index(root, list(entries.values()), name)
            if bar is not None:
                bar.update(1)
        write_index(root, list(entries.values()), name)
    if bar is not None:
        bar.close()
    write_index(root, list(entries.values()), name)
    return {"trained": trained, "skipped": skipped, "seconds": time.perf_counter() - t_start}


def _group_architecture(seed, task, k, config, group_size):
    """Model k's draw; with groups, structural fields come from the group's first model."""
    arch = draw_architecture(model_seed(seed, task, k), config)
    if group_size > 1:
        first = draw_architecture(model_seed(seed, task, k - k % group_size), config)
        for key in ("hidden", "activation", "dropout", "batch_size"):
            arch[key] = first[key]
    return arch


def _train_group_job(data, archs, config, device):
    import torch

    from .batched import train_mlp_group

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as train_mlp: results independent of the worker
    try:
        return train_mlp_group(*data, archs, config, device)
    finally:
        torch.set_num_threads(threads)


def _run_jobs(task_data, archs, config, device, n_jobs, client, batched=False):
    """Yield ``(k, (state, info))`` as models finish."""
    if batched:
        from .batched import signature

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
    """Short descriptor tag for search, e.g. ``"composition:magpie:all+stoich"``."""
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
    return type(featurizer).__name__


def _card(model_id, source, spec, arch, info, provenance, seed, k, config, excluded) -> dict:
    return {
        "id": model_id,
        "property": source.property,
        "quantity": source.quantity,
        "unit": source.unit,
        "kind": source.kind,
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
            "max_epochs": config.max_epochs,
            "patience": config.patience,
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
        "license": source.source,
        "skmdl_version": __version__,
    }


def config_as_dict(config: TrainingConfig) -> dict:
    return asdict(config)
