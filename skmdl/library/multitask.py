"""A multi-task trunk: one network trained jointly on many source properties.

Each task keeps its own cleaning and train/validation/test split (the same rows
the task's single-task models use, :func:`~skmdl.library.tasks.prepare_task`);
the rows of all tasks are stacked and every row carries a target only for its
own task, so the loss is masked: a Huber loss on each task's standardized
target, each task weighted equally whatever its number of rows. The hidden
layers are then a general embedding of a composition: the artifact is an
ordinary :class:`~skmdl.library.artifact.MLP` with one output per task, its
card lists the tasks (data set, property, quantity, fidelity, held-out
metrics), and :class:`~skmdl.transfer.PretrainedFeaturizer` and
:class:`~skmdl.transfer.TransferRegressor` use it as any other source.

``ModelLibrary.search(exclude_tasks=..., exclude_quantities=...)`` leaves the
trunk out when *any* of its tasks or quantities is excluded, so it never leaks
a transfer target's own property.
"""

from __future__ import annotations

import time

import numpy as np

from ..utils.threads import one_thread
from .training import EarlyStopping, lr_factor, regression_metrics

#: Architecture of the trunk: wide enough for 30+ properties, small enough to embed
#: (about 300k parameters, 1.3 MB in float32).
TRUNK_ARCH = {"hidden": [512, 256, 128], "activation": "silu", "dropout": 0.05, "lr": 1e-3,
              "weight_decay": 1e-5, "batch_size": 512, "torch_seed": 0}


def stack_tasks(sources, featurizer, seed, config, data=None, memo=None):
    """Every task's prepared rows, stacked: ``(parts, provenances)``.

    ``parts`` maps ``"train"``, ``"val"``, ``"test"`` to ``(F, y, t)``: features,
    the row's target and the index of its task in ``sources``.
    """
    from .tasks import prepare_task

    memo = {} if memo is None else memo
    blocks = {"train": [], "val": [], "test": []}
    provenances = []
    for t, source in enumerate(sources):
        given = None if data is None else data.get(source.prefix, data.get(source.task))
        task_data, provenance = prepare_task(source, featurizer, seed, config, *(given or ()),
                                             memo=memo)
        provenances.append(provenance)
        for name, (F, y) in zip(blocks, zip(task_data[0::2], task_data[1::2])):
            blocks[name].append((F, np.asarray(y, dtype=np.float64), np.full(len(y), t)))
    parts = {name: tuple(np.concatenate([b[i] for b in bl]) for i in range(3))
             for name, bl in blocks.items()}
    return parts, provenances


def task_scaling(y, t, n_tasks):
    """Per-task target mean and scale (1 for a constant or empty task).

    Examples
    --------
    >>> mean, scale = task_scaling(np.array([1.0, 3.0, 10.0]), np.array([0, 0, 2]), 3)
    >>> mean.tolist(), scale.tolist()   # task 1 has no rows, task 2 one
    ([2.0, 0.0, 10.0], [1.0, 1.0, 1.0])
    """
    mean, scale = np.zeros(n_tasks), np.ones(n_tasks)
    for k in range(n_tasks):
        yk = y[t == k]
        if len(yk):
            mean[k] = yk.mean()
            scale[k] = yk.std() or 1.0
    return mean, scale


def train_multitask(parts, n_tasks, arch=None, config=None, device="cpu"):
    """Train the trunk on stacked task rows; returns ``(module, info)``.

    The steps:

    1. standardize the inputs (as a single-task model does) and each task's
       target by its own training mean and scale;
    2. AdamW on minibatches, the loss of a row being the Huber loss of its
       own task's output, weighted by ``1 / rows of its task`` (equal task
       weights), with ``config``'s learning-rate schedule;
    3. after each epoch, the validation loss (mean over tasks of the per-task
       MSE); early stopping keeps the best epoch;
    4. score each task's output on that task's test rows.

    ``info`` holds ``tasks`` (one ``regression_metrics`` dict per task),
    ``epochs``, ``best_epoch``, ``train_seconds`` and ``n_params``.
    """
    import torch

    from .artifact import MLP
    from .builder import TrainingConfig
    from .training import scaling

    arch = dict(TRUNK_ARCH, **(arch or {}))
    config = config or TrainingConfig()
    with one_thread():
        t0 = time.perf_counter()
        F_tr, y_tr, t_tr = parts["train"]
        x_mean, x_scale, _, _ = scaling(F_tr, y_tr)
        y_mean, y_scale = task_scaling(y_tr, t_tr, n_tasks)
        torch.manual_seed(arch["torch_seed"])
        model = MLP(F_tr.shape[1], arch["hidden"], arch["activation"], arch["dropout"],
                    n_out=n_tasks).to(device)
        with torch.no_grad():
            for buf, value in ((model.x_mean, x_mean), (model.x_scale, x_scale),
                               (model.y_mean, y_mean), (model.y_scale, y_scale)):
                buf.copy_(torch.as_tensor(value))
        tensors = {name: _tensors(model, parts[name], y_mean, y_scale, device)
                   for name in ("train", "val")}
        stop = _fit(model, tensors, n_tasks, arch, config, device)
        info = {"tasks": _task_metrics(model, parts["test"], n_tasks, device),
                "epochs": int(stop.epochs[0]), "best_epoch": int(stop.best_epoch[0]) + 1,
                "train_seconds": time.perf_counter() - t0,
                "n_params": int(sum(p.numel() for p in model.parameters()))}
    return model.eval(), info


def _tensors(model, part, y_mean, y_scale, device):
    import torch

    F, y, t = part
    with torch.no_grad():
        Z = model.standardize(torch.from_numpy(np.array(F, dtype=np.float32)).to(device))
    target = ((y - y_mean[t]) / y_scale[t]).astype(np.float32)
    return Z, torch.from_numpy(target).to(device), torch.from_numpy(t.astype(np.int64)).to(device)


def _fit(model, tensors, n_tasks, arch, config, device) -> EarlyStopping:
    """Masked-loss training until early stopping; ``model`` ends with its best weights."""
    import torch

    Z, y, t = tensors["train"]
    counts = torch.bincount(t, minlength=n_tasks).clamp(min=1).to(torch.float32)
    weight = (len(t) / n_tasks) / counts  # equal weight per task
    gen = torch.Generator().manual_seed(arch["torch_seed"])
    opt = torch.optim.AdamW(model.parameters(), lr=arch["lr"], weight_decay=arch["weight_decay"])
    huber = torch.nn.HuberLoss(reduction="none")
    stop, best = EarlyStopping(config.patience), None
    for epoch in range(config.max_epochs):
        for group in opt.param_groups:
            group["lr"] = arch["lr"] * lr_factor(config, epoch)
        model.train()
        perm = torch.randperm(len(t), generator=gen).to(device)
        for i in range(0, len(t), arch["batch_size"]):
            idx = perm[i:i + arch["batch_size"]]
            out = model.forward_scaled(Z[idx]).gather(1, t[idx, None])[:, 0]
            loss = (huber(out, y[idx]) * weight[t[idx]]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if stop.update(epoch, np.array([_val_loss(model, tensors["val"], n_tasks)]))[0]:
            best = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if stop.done:
            break
    model.load_state_dict(best)
    return stop


def _val_loss(model, val, n_tasks) -> float:
    """Mean over the tasks with validation rows of their scaled MSE."""
    import torch

    Z, y, t = val
    model.eval()
    with torch.no_grad():
        err = (model.forward_scaled(Z).gather(1, t[:, None])[:, 0] - y) ** 2
        sums = err.new_zeros(n_tasks).index_add_(0, t, err)
        counts = torch.bincount(t, minlength=n_tasks)
    seen = counts > 0
    return float((sums[seen] / counts[seen]).mean()) if seen.any() else float("inf")


def _task_metrics(model, test, n_tasks, device) -> list:
    import torch

    F, y, t = test
    model.eval()
    with torch.no_grad():
        pred = model(torch.as_tensor(np.asarray(F, dtype=np.float32), device=device))
    pred = pred.cpu().numpy().astype(np.float64)
    return [regression_metrics(y[t == k], pred[t == k, k]) if (t == k).any() else {"n": 0}
            for k in range(n_tasks)]


def trunk_card(model_id, sources, provenances, info, spec, arch, config, seed, excluded):
    """The card of a trunk: its tasks with their held-out metrics, like a single-task card."""
    from .. import __version__
    from .builder import source_metadata

    tasks = [{"dataset": s.task, "name": s.prefix, **source_metadata(s),
              "metrics": {**m, "split": "test"}, "n_train": p["n_train"], "n_test": p["n_test"],
              "cleaning": p["cleaning"], "split": p["split"],
              "dataset_sha256": p["dataset_sha256"]}
             for s, p, m in zip(sources, provenances, info["tasks"])]
    r2 = [t["metrics"].get("r2") for t in tasks]
    r2 = [v for v in r2 if v is not None and np.isfinite(v)]
    kinds = sorted({s.kind for s in sources})
    return {
        "id": model_id,
        "property": f"multi-task embedding of {len(sources)} {'/'.join(kinds)} properties",
        "quantity": "multi-task", "unit": "", "kind": kinds[0] if len(kinds) == 1 else "mixed",
        "fidelity": "mixed (see tasks)", "license": "; ".join(sorted({s.source for s in sources})),
        "tasks": tasks,
        "descriptor": spec,
        "architecture": {"type": "mlp", "n_in": spec["n_features"], "hidden": arch["hidden"],
                         "activation": arch["activation"], "dropout": arch["dropout"],
                         "n_out": len(sources), "outputs": [s.prefix for s in sources],
                         "input_scaling": "standardize with x_mean/x_scale tensors; NaN -> mean",
                         "output_scaling": "y[:, k] = out[:, k] * y_scale[k] + y_mean[k]"},
        "training": {"dataset": "multitask", "n_train": int(sum(p["n_train"] for p in provenances)),
                     "seed": seed, "optimizer": "AdamW", "lr": arch["lr"],
                     "weight_decay": arch["weight_decay"], "batch_size": arch["batch_size"],
                     "loss": "huber on each task's standardized target, masked to the row's "
                             "task, tasks weighted equally",
                     "max_epochs": config.max_epochs, "patience": config.patience,
                     "lr_schedule": config.schedule, "epochs": info["epochs"],
                     "best_epoch": info["best_epoch"], "seconds": round(info["train_seconds"], 3),
                     "torch_seed": arch["torch_seed"]},
        "metrics": {"r2": float(np.median(r2)) if r2 else None, "split": "test",
                    "n": int(sum(t["metrics"].get("n", 0) for t in tasks)),
                    "note": "median held-out R² over the tasks; per task under 'tasks'"},
        "n_params": info["n_params"],
        "excluded_targets": list(excluded),
        "excluded_note": "benchmark transfer targets are never used as source data",
        "skmdl_version": __version__,
    }


def build_multitask(sources, out_dir, featurizer=None, name="multitask_inorganic", seed=0,
                    config=None, arch=None, data=None, library_name="", device="cpu",
                    excluded=None):
    """Train one trunk on ``sources`` into the library folder ``out_dir`` (skipped if there).

    Parameters
    ----------
    sources : list of SourceTask
    out_dir : path
        Library folder; the artifact is ``models/{name}-000``.
    featurizer : transformer, default CompositionFeaturizer(stats="all", stoichiometry=True)
    name : str
        Id prefix of the trunk.
    seed : int
        Seeds the task splits (as the single-task build does).
    config : TrainingConfig
        Epochs, patience, schedule, split fractions and ``max_train`` per task.
    arch : dict, optional
        Overrides of :data:`TRUNK_ARCH`.
    data : dict, optional
        ``{task: (X, y[, split])}`` instead of loading the tasks.
    library_name : str
    device : str
    excluded : sequence of str, optional
        Tasks never used as sources (default: the benchmark targets).

    Returns
    -------
    dict with ``trained``, ``skipped`` (ids) and ``seconds``.
    """
    from pathlib import Path

    from ..descriptors import CompositionFeaturizer
    from .artifact import descriptor_spec
    from .builder import (BENCHMARK_TARGETS, LibraryFolder, TrainingConfig, descriptor_name,
                          refuse_excluded)

    t0 = time.perf_counter()
    excluded = BENCHMARK_TARGETS if excluded is None else tuple(excluded)
    refuse_excluded(sources, excluded)
    if len({s.prefix for s in sources}) != len(sources):
        raise ValueError("the trunk's sources must have distinct names")
    model_id = f"{name}-000"
    library = LibraryFolder.open(Path(out_dir), library_name)
    if model_id in library.present:
        return {"trained": [], "skipped": [model_id], "seconds": time.perf_counter() - t0}
    config = config or TrainingConfig()
    featurizer = featurizer or CompositionFeaturizer(stats="all", stoichiometry=True)
    spec = dict(descriptor_spec(featurizer), name=descriptor_name(featurizer))
    parts, provenances = stack_tasks(sources, featurizer, seed, config, data)
    arch = dict(TRUNK_ARCH, **(arch or {}))
    module, info = train_multitask(parts, len(sources), arch, config, device)
    card = trunk_card(model_id, sources, provenances, info, spec, arch, config, seed, excluded)
    library.add(model_id, module, card)
    library.write_index()
    return {"trained": [model_id], "skipped": [], "seconds": time.perf_counter() - t0}
