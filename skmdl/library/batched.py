"""Train many same-shaped MLPs at once (``torch.func`` vmapped ensembles).

Small source networks leave a CPU core -- and even more a GPU -- mostly idle
per optimizer step: the step's fixed overhead dominates the arithmetic. Here
``K`` networks with the same architecture (widths, activation, dropout, batch
size) but their own initialisation, learning rate, weight decay and minibatch
order are stacked along a leading axis and trained in one vmapped forward /
backward / AdamW step. Each network is early-stopped on its own validation
loss (a stopped network's learning rate becomes 0).

The result is seeded and reproducible, but not bit-identical to training the
same networks one by one (dropout draws and minibatch gathers differ).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch.func import stack_module_state, vmap

from .artifact import MLP


def signature(arch: dict) -> tuple:
    """Architecture fields that must agree for networks to be trained together."""
    return (tuple(arch["hidden"]), arch["activation"], arch["dropout"], arch["batch_size"])


def train_mlp_group(F_tr, y_tr, F_va, y_va, F_te, y_te, archs, config, device="cpu"):
    """Train ``len(archs)`` same-shaped MLPs together; returns ``[(state, info), ...]``."""
    from .builder import _metrics, scaling

    sig = {signature(a) for a in archs}
    if len(sig) != 1:
        raise ValueError(f"networks of one group must share an architecture, got {sig}")
    t0 = time.perf_counter()
    K = len(archs)
    hidden, activation, dropout, bs = archs[0]["hidden"], archs[0]["activation"], \
        archs[0]["dropout"], archs[0]["batch_size"]
    x_mean, x_scale, y_mean, y_scale = scaling(F_tr, y_tr)

    models = []
    for a in archs:  # same initialisation as the one-by-one trainer
        torch.manual_seed(a["torch_seed"])
        m = MLP(F_tr.shape[1], hidden, activation, dropout)
        with torch.no_grad():
            m.x_mean.copy_(torch.as_tensor(x_mean))
            m.x_scale.copy_(torch.as_tensor(x_scale))
            m.y_mean.fill_(y_mean)
            m.y_scale.fill_(y_scale)
        models.append(m.to(device))
    base = models[0]
    params, _ = stack_module_state(models)
    buffers = {k: v for k, v in base.named_buffers()}
    params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}

    def prep(F, y):
        X = torch.from_numpy(np.array(F, dtype=np.float32)).to(device)
        with torch.no_grad():
            Z = base.standardize(X)
        t = torch.from_numpy(((np.asarray(y) - y_mean) / y_scale).astype(np.float32))
        return Z, t.to(device)[:, None]

    Z_tr, t_tr = prep(F_tr, y_tr)
    Z_va, t_va = prep(F_va, y_va)

    L = len(hidden)
    act = base.act
    mode = {"training": True}

    def fwd(p, z):  # MLP.forward_scaled, written on a parameter dict
        for i in range(L):
            z = act(z @ p[f"hidden.{i}.weight"].T + p[f"hidden.{i}.bias"])
            z = torch.nn.functional.dropout(z, dropout, training=mode["training"])
        return z @ p["out.weight"].T + p["out.bias"]

    train_fwd = vmap(fwd, in_dims=(0, 0), randomness="different")
    eval_fwd = vmap(fwd, in_dims=(0, None), randomness="different")

    lr = torch.tensor([a["lr"] for a in archs], device=device)
    wd = torch.tensor([a["weight_decay"] for a in archs], device=device)
    b1, b2, eps = 0.9, 0.999, 1e-8
    m1 = {k: torch.zeros_like(v) for k, v in params.items()}
    m2 = {k: torch.zeros_like(v) for k, v in params.items()}
    gens = [torch.Generator().manual_seed(a["torch_seed"]) for a in archs]
    n = len(Z_tr)
    huber = config.loss == "huber"
    best = torch.full((K,), math.inf, device=device)
    best_epoch = torch.zeros(K, dtype=torch.long)
    best_params = {k: v.detach().clone() for k, v in params.items()}
    active = torch.ones(K, dtype=torch.bool, device=device)
    stopped_at = torch.full((K,), config.max_epochs, dtype=torch.long)
    step = 0
    for epoch in range(config.max_epochs):
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(device)
        for i in range(0, n, bs):
            idx = perms[:, i:i + bs]                     # (K, B)
            out = train_fwd(params, Z_tr[idx])           # (K, B, 1)
            target = t_tr[idx]
            if huber:
                loss = torch.nn.functional.huber_loss(out, target, reduction="none")
            else:
                loss = (out - target) ** 2
            loss.mean(dim=(1, 2)).sum().backward()       # independent per network
            step += 1
            with torch.no_grad():
                lr_k = (lr * active)                      # stopped networks stay put
                c1, c2 = 1 - b1**step, 1 - b2**step
                for k, p in params.items():
                    g = p.grad
                    shape = (K,) + (1,) * (p.dim() - 1)
                    m1[k].mul_(b1).add_(g, alpha=1 - b1)
                    m2[k].mul_(b2).addcmul_(g, g, value=1 - b2)
                    p.mul_(1 - (lr_k * wd).view(shape))
                    p.sub_(lr_k.view(shape) * (m1[k] / c1) / ((m2[k] / c2).sqrt() + eps))
                    p.grad = None
        mode["training"] = False
        with torch.no_grad():
            val = ((eval_fwd(params, Z_va) - t_va) ** 2).mean(dim=(1, 2))
        mode["training"] = True
        improved = (val < best - 1e-7) & active
        best = torch.where(improved, val, best)
        best_epoch[improved.cpu()] = epoch
        for k, p in params.items():
            best_params[k][improved] = p.detach()[improved]
        newly_stopped = active & ~improved & ((epoch - best_epoch.to(device)) >= config.patience)
        stopped_at[newly_stopped.cpu()] = epoch + 1
        active &= ~newly_stopped
        if not active.any():
            break
    seconds = (time.perf_counter() - t0) / K
    X_te = torch.from_numpy(np.array(F_te, dtype=np.float32)).to(device)
    results = []
    for j, a in enumerate(archs):
        state = {k: v[j].detach().cpu().numpy() for k, v in best_params.items()}
        state.update({k: v.detach().cpu().numpy() for k, v in buffers.items()})
        m = MLP(F_tr.shape[1], hidden, activation, dropout)
        m.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
        m.eval()
        with torch.no_grad():
            pred = m(X_te.cpu())[:, 0].numpy().astype(np.float64)
        info = {
            "metrics": _metrics(np.asarray(y_te, dtype=np.float64), pred),
            "epochs": int(min(stopped_at[j].item(), epoch + 1)),
            "best_epoch": int(best_epoch[j].item()) + 1,
            "val_mse_scaled": float(best[j].item()),
            "train_seconds": seconds,
            "n_params": int(sum(p.numel() for p in m.parameters())),
            "batched_with": K,
        }
        results.append((state, info))
    return results
