"""Train many same-shaped MLPs at once (``torch.func`` vmapped ensembles).

Small source networks leave a CPU core -- and even more a GPU -- mostly idle
per optimizer step: the step's fixed overhead dominates the arithmetic. Here
``K`` networks with the same architecture (widths, activation, dropout, batch
size) but their own initialisation, learning rate, weight decay and minibatch
order are stacked along a leading axis and trained in one vmapped forward /
backward / AdamW step. Each network is early-stopped on its own validation
loss (a stopped network's learning rate becomes 0). The pieces shared with the
one-by-one trainer (standardization, initialisation, early stopping, scores)
are those of :mod:`skmdl.library.training`.

The result is seeded and reproducible, but not bit-identical to training the
same networks one by one (dropout draws and minibatch gathers differ).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.func import stack_module_state, vmap

from ..utils.threads import one_thread
from .artifact import MLP
from .training import (EarlyStopping, budget_record, epoch_budget, held_out_predictions,
                       loss_function, lr_factor, new_mlp, regression_metrics, scaled_tensors,
                       scaling, validation_loss)


def signature(arch: dict) -> tuple:
    """Architecture fields that must agree for networks to be trained together."""
    return (tuple(arch["hidden"]), arch["activation"], arch["dropout"], arch["batch_size"])


def train_mlp_group(F_tr, y_tr, F_va, y_va, F_te, y_te, archs, config, device="cpu"):
    """Train ``len(archs)`` same-shaped MLPs together; returns ``[(state, info), ...]``.

    The steps:

    1. check that every architecture has the same :func:`signature`;
    2. :func:`_stacked_networks`: each network initialised as the one-by-one
       trainer would (:func:`~skmdl.library.training.new_mlp`), parameters
       stacked along a leading axis;
    3. :func:`_fit_group`: vmapped forward and backward passes, one AdamW step
       for all networks with their own learning rate and weight decay, and
       per-network :class:`~skmdl.library.training.EarlyStopping` on the
       validation MSE, keeping each network's best parameters;
    4. :func:`_group_results`: each network's best state scored on the test split.

    Runs on one torch thread (as :func:`~skmdl.library.training.train_mlp`).

    Examples
    --------
    >>> import numpy as np
    >>> from skmdl.library.builder import TrainingConfig
    >>> rng = np.random.default_rng(0)
    >>> F = rng.normal(size=(90, 3)).astype(np.float32)
    >>> y = F[:, 0] + rng.normal(0, 0.1, 90)
    >>> arch = {"hidden": [8], "activation": "relu", "dropout": 0.0, "batch_size": 32,
    ...         "lr": 1e-2, "weight_decay": 0.0, "torch_seed": 1}
    >>> data = (F[:60], y[:60], F[60:75], y[60:75], F[75:], y[75:])
    >>> results = train_mlp_group(*data, [arch, dict(arch, torch_seed=2)],
    ...                           TrainingConfig(max_epochs=3))
    >>> [(info["epochs"], info["batched_with"]) for state, info in results]
    [(3, 2), (3, 2)]
    """
    sig = {signature(a) for a in archs}
    if len(sig) != 1:
        raise ValueError(f"networks of one group must share an architecture, got {sig}")
    config = epoch_budget(config, len(F_tr), archs[0]["batch_size"])
    with one_thread():
        t0 = time.perf_counter()
        standardization = scaling(F_tr, y_tr)
        params, buffers, base = _stacked_networks(F_tr.shape[1], archs, standardization, device)
        train = scaled_tensors(base, standardization, F_tr, y_tr, device)
        val = scaled_tensors(base, standardization, F_va, y_va, device)
        best_params, stop = _fit_group(base, params, train, val, archs, config, device)
        seconds = (time.perf_counter() - t0) / len(archs)
        results = _group_results(best_params, buffers, stop, F_tr.shape[1], archs, F_te, y_te,
                                 seconds)
    return [(state, {**info, **budget_record(config)}) for state, info in results]


def _stacked_networks(n_in, archs, standardization, device):
    """``(params, buffers, base)``: stacked trainable parameters, shared buffers, network 0."""
    models = [new_mlp(n_in, a, standardization).to(device) for a in archs]
    base = models[0]
    params, _ = stack_module_state(models)
    params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    buffers = {k: v for k, v in base.named_buffers()}
    return params, buffers, base


def _vmapped_forward(base, dropout):
    """``(train_fwd, eval_fwd)``: ``MLP.forward_scaled`` on a stacked parameter dict.

    ``train_fwd`` takes one minibatch per network and applies dropout;
    ``eval_fwd`` takes one batch shared by all networks, without dropout.
    """
    n_layers, act = len(base.hidden), base.act

    def fwd(p, z, training):
        for i in range(n_layers):
            z = act(z @ p[f"hidden.{i}.weight"].T + p[f"hidden.{i}.bias"])
            z = torch.nn.functional.dropout(z, dropout, training=training)
        return z @ p["out.weight"].T + p["out.bias"]

    train_fwd = vmap(lambda p, z: fwd(p, z, True), in_dims=(0, 0), randomness="different")
    eval_fwd = vmap(lambda p, z: fwd(p, z, False), in_dims=(0, None), randomness="different")
    return train_fwd, eval_fwd


class _StackedAdamW:
    """AdamW over stacked parameters, one learning rate and weight decay per network."""

    b1, b2, eps = 0.9, 0.999, 1e-8

    def __init__(self, params, archs, device):
        self.params = params
        self.lr = torch.tensor([a["lr"] for a in archs], device=device)
        self.wd = torch.tensor([a["weight_decay"] for a in archs], device=device)
        self.m1 = {k: torch.zeros_like(v) for k, v in params.items()}
        self.m2 = {k: torch.zeros_like(v) for k, v in params.items()}
        self.step_count = 0

    @torch.no_grad()
    def step(self, lr):
        """One step with learning rates ``lr`` (0 for a stopped network); clears the gradients."""
        self.step_count += 1
        b1, b2 = self.b1, self.b2
        c1, c2 = 1 - b1**self.step_count, 1 - b2**self.step_count
        for k, p in self.params.items():
            g = p.grad
            shape = (len(lr),) + (1,) * (p.dim() - 1)
            self.m1[k].mul_(b1).add_(g, alpha=1 - b1)
            self.m2[k].mul_(b2).addcmul_(g, g, value=1 - b2)
            p.mul_(1 - (lr * self.wd).view(shape))
            p.sub_(lr.view(shape) * (self.m1[k] / c1) / ((self.m2[k] / c2).sqrt() + self.eps))
            p.grad = None


def _fit_group(base, params, train, val, archs, config, device):
    """Train the stacked networks until each has stopped; ``(best_params, EarlyStopping)``."""
    (Z_tr, t_tr), (Z_va, t_va) = train, val
    K, bs, n = len(archs), archs[0]["batch_size"], len(Z_tr)
    train_fwd, eval_fwd = _vmapped_forward(base, archs[0]["dropout"])
    opt = _StackedAdamW(params, archs, device)
    gens = [torch.Generator().manual_seed(a["torch_seed"]) for a in archs]
    loss_fn = loss_function(config.loss)
    stop = EarlyStopping(config.patience)
    best_params = {k: v.detach().clone() for k, v in params.items()}
    lr = opt.lr * torch.ones(K, dtype=torch.bool, device=device)
    for epoch in range(config.max_epochs):
        lr_epoch = lr * lr_factor(config, epoch)
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)
        for i in range(0, n, bs):
            idx = perms[:, i:i + bs]                     # (K, B)
            out = train_fwd(params, Z_tr[idx])           # (K, B, 1)
            target = t_tr[idx]
            loss_fn(out, target).mean(dim=(1, 2)).sum().backward()  # independent per network
            opt.step(lr_epoch)
        with torch.no_grad():
            val_loss = validation_loss(config.loss, eval_fwd(params, Z_va), t_va)
        improved = torch.as_tensor(stop.update(epoch, val_loss), device=device)
        for k, p in params.items():
            best_params[k][improved] = p.detach()[improved]
        lr = opt.lr * torch.as_tensor(stop.active, device=device)  # stopped networks stay put
        if stop.done:
            break
    return best_params, stop


def _group_results(best_params, buffers, stop, n_in, archs, F_te, y_te, seconds):
    """``[(state, info), ...]``: each network's best state and its test-split scores."""
    results = []
    for j, a in enumerate(archs):
        state = {k: v[j].detach().cpu().numpy() for k, v in best_params.items()}
        state.update({k: v.detach().cpu().numpy() for k, v in buffers.items()})
        m = MLP(n_in, a["hidden"], a["activation"], a["dropout"])
        m.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
        pred = held_out_predictions(m, F_te)
        info = {
            "metrics": regression_metrics(np.asarray(y_te, dtype=np.float64), pred),
            "epochs": int(stop.epochs[j]),
            "best_epoch": int(stop.best_epoch[j]) + 1,
            "val_mse_scaled": float(stop.best[j].item()),
            "train_seconds": seconds,
            "n_params": int(sum(p.numel() for p in m.parameters())),
            "batched_with": len(archs),
        }
        results.append((state, info))
    return results
