"""Fine-tuning a source network on target data (skorch)."""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted


def _seed(random_state) -> int:
    """The torch seed of ``random_state``: the int itself, else a draw (``None``: random).

    Examples
    --------
    >>> _seed(7)
    7
    >>> _seed(None) == _seed(None)  # two fresh draws
    False
    """
    if isinstance(random_state, Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class SourceFineTuner(RegressorMixin, BaseEstimator):
    """A copy of a source network, output layer replaced, trained on the target.

    Inputs are the source model's own descriptor matrix. The hidden layers
    start from the source weights and learn ``lower_lr_factor`` times slower
    than the new output layer; training stops early on an inner validation
    split (skorch ``EarlyStopping``) and keeps the best epoch's weights.

    Parameters
    ----------
    module : skmdl.library.MLP
        The source network (copied in ``fit``, never modified).
    lr : float, default=1e-3
        Learning rate of the new output layer (AdamW).
    lower_lr_factor : float, default=0.1
        Learning-rate factor of the pretrained hidden layers.
    weight_decay : float, default=1e-4
        AdamW weight decay.
    max_epochs : int, default=300
        Largest number of training epochs.
    patience : int, default=20
        Epochs without improvement of the validation loss before stopping.
    batch_size : int, default=32
        Training mini-batch size.
    valid_fraction : float, default=0.2
        Share of the rows held out for early stopping.
    device : str, default="cpu"
        torch device, e.g. ``"cuda"``.
    random_state : int, RandomState instance or None, default=None
        Seeds the new output layer, the validation split and the batch order;
        ``None`` gives a different network on every fit.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The fine-tuned network.
    n_epochs_ : int
        Epochs trained before early stopping.

    Examples
    --------
    >>> from skmdl.datasets import load_sample
    >>> from skmdl.library import ModelLibrary
    >>> from skmdl.transfer.finetune import SourceFineTuner
    >>> module, featurizer = ModelLibrary.default().load("aflow_egap-000")
    >>> X, y = load_sample("matbench_expt_gap_1000")
    >>> F = featurizer.transform(X)
    >>> tuner = SourceFineTuner(module, max_epochs=20, random_state=0).fit(F[:300], y[:300])
    >>> tuner.predict(F[300:303]).shape
    (3,)
    """

    _parameter_constraints = {
        "module": [None, HasMethods(["forward", "state_dict"])],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lower_lr_factor": [Interval(Real, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "valid_fraction": [Interval(Real, 0, 1, closed="neither")],
        "device": [str],
        "random_state": ["random_state"],
    }

    def __init__(self, module=None, lr=1e-3, lower_lr_factor=0.1, weight_decay=1e-4,
                 max_epochs=300, patience=20, batch_size=32, valid_fraction=0.2, device="cpu",
                 random_state=None):
        self.module = module
        self.lr = lr
        self.lower_lr_factor = lower_lr_factor
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.patience = patience
        self.batch_size = batch_size
        self.valid_fraction = valid_fraction
        self.device = device
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fine-tune a copy of ``module`` on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The source model's descriptor matrix of the target rows.
        y : array-like of shape (n_samples,)
            Target values.

        Returns
        -------
        self
        """
        import torch
        from skorch import NeuralNetRegressor
        from skorch.callbacks import EarlyStopping
        from skorch.dataset import ValidSplit

        if self.module is None:
            raise ValueError("SourceFineTuner needs a source module")
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y, dtype=np.float32).reshape(-1, 1)
        seed = _seed(self.random_state)
        torch.manual_seed(seed)
        net_module = copy.deepcopy(self.module).float()
        with torch.no_grad():
            net_module.out.reset_parameters()  # new head for the new property
            net_module.y_mean.fill_(float(y.mean()))
            net_module.y_scale.fill_(float(y.std()) or 1.0)
        self.net_ = NeuralNetRegressor(
            net_module,
            criterion=torch.nn.MSELoss,
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            optimizer__param_groups=[("hidden.*", {"lr": self.lr * self.lower_lr_factor})],
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=ValidSplit(self.valid_fraction, random_state=seed),
            callbacks=[EarlyStopping(patience=self.patience, load_best=True)],
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            device=self.device,
            verbose=0,
        )
        self.net_.fit(X, y)
        self.n_epochs_ = len(self.net_.history)
        return self

    def predict(self, X):
        """Predictions of the fine-tuned network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Descriptor matrix, as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "net_")
        return self.net_.predict(np.asarray(X, dtype=np.float32))[:, 0].astype(np.float64)
