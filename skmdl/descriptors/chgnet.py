"""The crystal embedding of the pretrained CHGNet universal potential as a featurizer.

The network ships inside the ``chgnet`` package (nothing is downloaded) and is
loaded once per process; torch and CHGNet are imported only when a
:class:`CHGNetEmbedding` is fitted.
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from . import _structures
from ._structures import StructureError, atomic_numbers, load_structures


@functools.lru_cache(maxsize=4)
def _load_chgnet(model: str, device: str):
    """The pretrained CHGNet, loaded once per process (its weights ship with the package)."""
    with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints its size and device
        from chgnet.model import CHGNet

        net = CHGNet.load(model_name=model, use_device=device, verbose=False)
    return net.eval()


class CHGNetEmbedding(_structures.BaseStructureFeaturizer):
    """Crystal embedding of the pretrained CHGNet universal potential.

    The mean over atoms of CHGNet's final atom features (64 per atom for
    model 0.3.0), i.e. the model's ``crystal_fea`` divided by the number of
    atoms: CHGNet pools its atom features by summing them (its energy is a
    sum of site energies), and the mean makes the embedding intensive, so a
    supercell gives the same vector. The weights ship inside the ``chgnet``
    package; nothing is downloaded.

    The network is loaded in ``fit`` and shared by all featurizers of the
    process; it is not pickled (a pickled featurizer reloads it on first
    use), so ``clone`` and ``pickle`` stay cheap.

    Parameters
    ----------
    model : {"0.3.0", "0.2.0", "r2scan"}, default="0.3.0"
        Pretrained CHGNet version (``CHGNet.load(model_name=...)``).
    device : str, default="cpu"
        torch device, e.g. ``"cuda"``.
    batch_size : int, default=16
        Structures per forward pass.
    n_threads : int or None, default=1
        torch CPU threads during ``transform`` (restored afterwards); ``None``
        keeps torch's setting. One thread is the default because the
        network's small sparse operations gain little from more, and on a
        machine busy with other work torch's waiting threads slow it down
        (35 structures: 2 s with 1 thread, 19 s with 2, on 2 shared cores).
    errors : {"raise", "nan"}, default="raise"
        Bad items (see :class:`RadialDistributionFeaturizer`), elements
        beyond Pu (Z = 94) and isolated atoms: raise a ``ValueError`` naming the item and its
        row, or NaN row and a warning.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        ``"chgnet_0"`` ... ``"chgnet_{d-1}"``.

    Notes
    -----
    Output is float32, the precision of the network. A structure with a
    site that has no neighbour within 6 Å (CHGNet's graph cutoff) is a bad
    item: CHGNet refuses to build its graph.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> fcc = Lattice([[0, 2.715, 2.715], [2.715, 0, 2.715], [2.715, 2.715, 0]])
    >>> si = Structure(fcc, ["Si", "Si"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    >>> f = CHGNetEmbedding().fit()
    >>> f.transform([si]).shape
    (1, 64)
    """

    _parameter_constraints = {
        **_structures.BaseStructureFeaturizer._parameter_constraints,
        "model": [StrOptions({"0.3.0", "0.2.0", "r2scan"})],
        "device": [str],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    }
    _dtype = np.float32

    def __init__(self, model="0.3.0", device="cpu", batch_size=16, n_threads=1, errors="raise"):
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.n_threads = n_threads
        super().__init__(errors=errors)

    def _fit(self, X):
        """Load the pretrained network."""
        net = _load_chgnet(self.model, self.device)
        self._net = net
        dim = int(net.model_args["atom_fea_dim"])
        self.max_atomic_number_ = int(net.atom_embedding.embedding.num_embeddings)
        self.feature_names_out_ = np.asarray([f"chgnet_{i}" for i in range(dim)], dtype=object)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_net", None)
        return state

    def _featurize(self, items):
        """(embeddings, {position: reason}): graphs built one by one, embedded in batches."""
        if getattr(self, "_net", None) is None:  # unpickled: reload the shared network
            self._net = _load_chgnet(self.model, self.device)
        out = self._empty(len(items))
        errors, graphs, rows, sizes = {}, [], [], []
        messages = io.StringIO()
        for i, s in enumerate(load_structures(items)):
            if isinstance(s, StructureError):
                errors[i] = s.reason
                continue
            z = atomic_numbers(s)
            if z.max() > self.max_atomic_number_ or z.min() < 1:
                errors[i] = f"CHGNet knows elements Z = 1..{self.max_atomic_number_} only"
                continue
            try:
                with contextlib.redirect_stderr(messages):
                    graphs.append(self._net.graph_converter(s, graph_id=f"row {i}"))
            except Exception as exc:  # noqa: BLE001 - a structure CHGNet cannot build a graph of
                errors[i] = f"CHGNet graph construction failed: {exc}"
                continue
            rows.append(i)
            sizes.append(len(s))
        if messages.getvalue().strip():
            warnings.warn(messages.getvalue().strip(), UserWarning, stacklevel=3)
        if graphs:
            out[rows] = self._embed(graphs) / np.asarray(sizes, dtype=np.float32)[:, None]
        return out, errors

    def _embed(self, graphs):
        import torch

        feas = []
        threads = torch.get_num_threads()
        try:
            if self.n_threads is not None:
                torch.set_num_threads(self.n_threads)
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's "tensor with requires_grad" notices
                for start in range(0, len(graphs), self.batch_size):
                    batch = [g.to(self.device) for g in graphs[start : start + self.batch_size]]
                    pred = self._net.forward(batch, task="e", return_crystal_feas=True)
                    feas.append(pred["crystal_fea"].detach().cpu().numpy())
        finally:
            torch.set_num_threads(threads)
        return np.concatenate(feas).astype(np.float32, copy=False)
