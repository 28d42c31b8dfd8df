"""Training one source network, and the pieces every source-network trainer shares.

:func:`train_mlp` trains one network; :func:`skmdl.library.batched.train_mlp_group`
trains several same-shaped ones at once. Both use, from here:

* :func:`scaling` -- the input and output standardization of a training set;
* :func:`new_mlp` -- a seeded network carrying that standardization;
* :func:`scaled_tensors` -- standardized inputs and targets as tensors;
* :class:`EarlyStopping` -- per-network early stopping on the validation loss;
* :func:`regression_metrics` and :func:`held_out_predictions` -- the held-out scores;
* :func:`~skmdl.utils.threads.one_thread` -- so a result does not depend on the worker.

A trainer takes ``(F_tr, y_tr, F_va, y_va, F_te, y_te)`` (features float32, targets
float), an architecture dict as drawn by
:func:`skmdl.library.builder.draw_architecture` and a
:class:`~skmdl.library.builder.TrainingConfig`, and returns
``(state, info)`` per network: the ``state_dict`` as numpy arrays and a dict with
``metrics``, ``epochs``, ``best_epoch``, ``val_mse_scaled``, ``train_seconds``
and ``n_params``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..utils.threads import one_thread
from .artifact import MLP


def scaling(F_tr, y_tr):
    """Input and output standardization of a training set: (x_mean, x_scale, y_mean, y_scale).

    NaN-only or constant inputs get mean 0 / scale 1; a constant target scale 1.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, np.nan]])
    >>> x_mean, x_scale, y_mean, y_scale = scaling(F, np.array([2.0, 2.0]))
    >>> x_mean.tolist(), x_scale.tolist(), y_mean, y_scale
    ([2.0, 5.0, 0.0], [1.0, 1.0, 1.0], 2.0, 1.0)
    """
    x_mean = np.nanmean(F_tr, axis=0)
    x_scale = np.nanstd(F_tr, axis=0)
    x_mean = np.where(np.isfinite(x_mean), x_mean, 0.0)
    x_scale = np.where(np.isfinite(x_scale) & (x_scale > 1e-12), x_scale, 1.0)
    return x_mean, x_scale, float(np.mean(y_tr)), float(np.std(y_tr)) or 1.0


def regression_metrics(y, pred) -> dict:
    """``mae``, ``rmse``, ``r2`` (NaN for a constant ``y``) and ``n`` of predictions ``pred``.

    Examples
    --------
    >>> import numpy as np
    >>> regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    {'mae': 0.3333333333333333, 'rmse': 0.5773502691896257, 'r2': 0.5, 'n': 3}
    """
    err = pred - y
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
        "r2": float(1 - (err**2).sum() / ss_tot) if ss_tot > 0 else float("nan"),
        "n": int(len(y)),
    }


def new_mlp(n_in, arch: dict, standardization):
    """A freshly initialised :class:`~skmdl.library.artifact.MLP` of ``arch``.

    The weights are drawn after ``torch.manual_seed(arch["torch_seed"])``, so a
    network's initialisation depends on its seed only; the standardization
    buffers are set from ``standardization`` (what :func:`scaling` returns).
    """
    import torch

    x_mean, x_scale, y_mean, y_scale = standardization
    torch.manual_seed(arch["torch_seed"])
    model = MLP(n_in, arch["hidden"], arch["activation"], arch["dropout"])
    with torch.no_grad():
        model.x_mean.copy_(torch.as_tensor(x_mean))
        model.x_scale.copy_(torch.as_tensor(x_scale))
        model.y_mean.fill_(y_mean)
        model.y_scale.fill_(y_scale)
    return model


def scaled_tensors(model, standardization, F, y, device="cpu"):
    """``(Z, t)``: inputs standardized by ``model``, targets by ``standardization``.

    ``standardization`` is what :func:`scaling` returns; its float64 target mean
    and scale are used (``model``'s buffers hold them as float32).

    Returns
    -------
    Z : torch.Tensor, shape (n_samples, n_features), float32
    t : torch.Tensor, shape (n_samples, 1), float32
    """
    import torch

    # np.array copies: F may be a read-only memmap, which torch cannot wrap
    X = torch.from_numpy(np.array(F, dtype=np.float32)).to(device)
    with torch.no_grad():
        Z = model.standardize(X)
    y_mean, y_scale = standardization[2:]
    t = torch.from_numpy(((np.asarray(y) - y_mean) / y_scale).astype(np.float32))
    return Z, t.to(device)[:, None]


class EarlyStopping:
    """Early stopping of ``n`` networks, each on its own validation loss.

    After each epoch, :meth:`update` takes the validation losses. A network
    improves when its loss is below its best by more than ``min_delta``; it
    stops once ``patience`` epochs have passed since its best without
    improving. Losses may be a numpy array or a torch tensor (on any device);
    :attr:`best` keeps their type, the other attributes are numpy arrays.

    Parameters
    ----------
    patience : int
    min_delta : float

    Attributes
    ----------
    best : array of shape (n,)
        Best validation loss of each network so far.
    best_epoch : ndarray of int, shape (n,)
        Its epoch (0-based).
    active : ndarray of bool, shape (n,)
        Networks still training.
    epochs : ndarray of int, shape (n,)
        Epochs each network has trained.

    Examples
    --------
    >>> import numpy as np
    >>> stop = EarlyStopping(patience=2)
    >>> for epoch, losses in enumerate([[3.0, 3.0], [2.0, 3.5], [1.0, 3.2], [1.5, 3.1]]):
    ...     improved = stop.update(epoch, np.array(losses))
    >>> stop.best.tolist(), stop.best_epoch.tolist(), stop.active.tolist(), stop.epochs.tolist()
    ([1.0, 3.0], [2, 0], [True, False], [4, 3])
    """

    def __init__(self, patience, min_delta=1e-7):
        self.patience = patience
        self.min_delta = min_delta
        self.best = None

    @property
    def done(self) -> bool:
        """Whether every network has stopped."""
        return self.best is not None and not self.active.any()

    def update(self, epoch, losses):
        """Record the validation ``losses`` of ``epoch``; returns the mask of improved networks.

        The mask is a numpy array, whatever the type of ``losses``.
        """
        if self.best is None:
            self._start(losses)
        improved = _to_numpy(losses < self.best - self.min_delta) & self.active
        if improved.any():
            where = _like(improved, losses)
            self.best[where] = losses[where]
        self.best_epoch[improved] = epoch
        self.epochs[self.active] = epoch + 1
        stale = (epoch - self.best_epoch) >= self.patience
        self.active &= ~(~improved & stale)
        return improved

    def _start(self, losses):
        n = len(losses)
        if hasattr(losses, "new_full"):  # a torch tensor: keep its dtype and device
            self.best = losses.new_full((n,), math.inf)
        else:
            self.best = np.full(n, math.inf, dtype=np.asarray(losses).dtype)
        self.best_epoch = np.zeros(n, dtype=np.int64)
        self.active = np.ones(n, dtype=bool)
        self.epochs = np.zeros(n, dtype=np.int64)


def _to_numpy(mask):
    return mask.cpu().numpy() if hasattr(mask, "cpu") else np.asarray(mask)


def _like(mask, reference):
    """``mask`` as an index for ``reference`` (a tensor on its device, or the numpy mask)."""
    if hasattr(reference, "new_full"):
        import torch

        return torch.as_tensor(mask, device=reference.device)
    return mask


def held_out_predictions(model, F_te, device="cpu"):
    """Predictions (float64, source units) of ``model`` in eval mode for the test features."""
    import torch

    model.eval()
    with torch.no_grad():
        pred = model(torch.as_tensor(np.asarray(F_te, dtype=np.float32), device=device))
    return pred.cpu().numpy()[:, 0].astype(np.float64)


def lr_factor(config, epoch: int) -> float:
    """Learning-rate multiplier of ``epoch``: 1 (``schedule="constant"``) or cosine decay.

    ``"cosine"`` anneals from 1 at the first epoch to 0.01 at ``max_epochs``.

    Examples
    --------
    >>> from skmdl.library.builder import TrainingConfig
    >>> lr_factor(TrainingConfig(), 7)
    1.0
    >>> cfg = TrainingConfig(max_epochs=100, schedule="cosine")
    >>> lr_factor(cfg, 0), round(lr_factor(cfg, 50), 3), round(lr_factor(cfg, 100), 3)
    (1.0, 0.505, 0.01)
    """
    if config.schedule == "constant":
        return 1.0
    if config.schedule != "cosine":
        raise ValueError(f"schedule must be 'constant' or 'cosine', got {config.schedule!r}")
    return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(epoch / config.max_epochs, 1.0)))


def epoch_budget(config, n_train: int, batch_size: int):
    """``config`` with ``max_epochs`` (and ``patience`` in proportion) raised so that
    training can take ``config.min_steps`` minibatch steps.

    A fixed number of epochs is few steps on a small training set (3,400 rows in
    batches of 1,024: 4 steps an epoch); ``min_steps`` makes the budget a number
    of optimizer steps instead, at most 2,000 epochs.

    Examples
    --------
    >>> from skmdl.library.builder import TrainingConfig
    >>> cfg = TrainingConfig(max_epochs=60, patience=10, min_steps=3000)
    >>> small = epoch_budget(cfg, n_train=3400, batch_size=128)   # 27 steps an epoch
    >>> small.max_epochs, small.patience
    (112, 19)
    >>> epoch_budget(cfg, n_train=240000, batch_size=256).max_epochs   # 60 epochs suffice
    60
    """
    from dataclasses import replace

    if not config.min_steps:
        return config
    per_epoch = max(1, math.ceil(n_train / batch_size))
    epochs = min(2000, max(config.max_epochs, math.ceil(config.min_steps / per_epoch)))
    if epochs == config.max_epochs:
        return config
    return replace(config, max_epochs=epochs,
                   patience=math.ceil(config.patience * epochs / config.max_epochs))


def loss_function(name: str):
    """The training loss named by ``TrainingConfig.loss`` (elementwise, no reduction):
    ``"huber"`` (delta 1 on the standardized target), ``"mse"`` or ``"l1"``."""
    import torch

    losses = {"huber": lambda out, t: torch.nn.functional.huber_loss(out, t, reduction="none"),
              "mse": lambda out, t: (out - t) ** 2,
              "l1": lambda out, t: (out - t).abs()}
    if name not in losses:
        raise ValueError(f"loss must be one of {sorted(losses)}, got {name!r}")
    return losses[name]


def validation_metric(loss: str) -> str:
    """Early-stopping metric of a training loss: ``"mae"`` for ``"l1"`` (the held-out
    metric), else ``"mse"``."""
    return "mae" if loss == "l1" else "mse"


def validation_loss(name: str, out, target):
    """Early-stopping loss per network (last two axes averaged): :func:`validation_metric`."""
    err = out - target
    return (err.abs() if validation_metric(name) == "mae" else err**2).mean(dim=(-2, -1))


def budget_record(config) -> dict:
    """What a card records of a network's training budget (after :func:`epoch_budget`)."""
    return {"val_metric": validation_metric(config.loss), "max_epochs": config.max_epochs,
            "patience": config.patience}


def train_mlp(F_tr, y_tr, F_va, y_va, F_te, y_te, arch: dict, config, device: str = "cpu"):
    """Train one MLP; returns ``(state_dict as numpy arrays, info dict)``.

    The steps:

    1. standardize: :func:`scaling` of the training set, :func:`new_mlp` seeded
       with ``arch["torch_seed"]``, :func:`scaled_tensors` of training and
       validation data;
    2. :func:`_fit_early_stopped`: AdamW on minibatches drawn by a private
       generator, validation MSE after each epoch, the best epoch's weights kept
       (:class:`EarlyStopping`);
    3. score the best weights on the test split (:func:`regression_metrics`).

    One torch thread and a private generator make the result depend only on
    the inputs and ``arch["torch_seed"]``.
    """
    config = epoch_budget(config, len(F_tr), arch["batch_size"])
    with one_thread():
        t0 = time.perf_counter()
        standardization = scaling(F_tr, y_tr)
        model = new_mlp(F_tr.shape[1], arch, standardization).to(device)
        train = scaled_tensors(model, standardization, F_tr, y_tr, device)
        val = scaled_tensors(model, standardization, F_va, y_va, device)
        stop = _fit_early_stopped(model, train, val, arch, config, device)
        pred = held_out_predictions(model, F_te, device)
        state = {k: v.cpu().numpy() for k, v in model.state_dict().items()}
        info = {
            "metrics": regression_metrics(np.asarray(y_te, dtype=np.float64), pred),
            "epochs": int(stop.epochs[0]),
            "best_epoch": int(stop.best_epoch[0]) + 1,
            "val_mse_scaled": float(stop.best[0]),
            **budget_record(config),
            "train_seconds": time.perf_counter() - t0,
            "n_params": int(sum(p.numel() for p in model.parameters())),
        }
        return state, info


def _fit_early_stopped(model, train, val, arch, config, device) -> EarlyStopping:
    """Train ``model`` in place until early stopping; it ends holding its best epoch's weights."""
    import torch

    (Z_tr, t_tr), (Z_va, t_va) = train, val
    gen = torch.Generator().manual_seed(arch["torch_seed"])
    loss_fn = loss_function(config.loss)
    opt = torch.optim.AdamW(model.parameters(), lr=arch["lr"], weight_decay=arch["weight_decay"])
    n, bs = len(Z_tr), arch["batch_size"]
    stop, best_state = EarlyStopping(config.patience), None
    for epoch in range(config.max_epochs):
        for group in opt.param_groups:
            group["lr"] = arch["lr"] * lr_factor(config, epoch)
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss_fn(model.forward_scaled(Z_tr[idx]), t_tr[idx]).mean().backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            loss = float(validation_loss(config.loss, model.forward_scaled(Z_va), t_va))
        if stop.update(epoch, np.array([loss]))[0]:
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if stop.done:
            break
    model.load_state_dict(best_state)
    return stop
