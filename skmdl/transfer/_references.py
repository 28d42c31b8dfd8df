"""What the estimator file of a saved model may hold, and the references that stand in it.

:func:`~skmdl.transfer.saving.save_model` writes a fitted estimator with skops,
after :class:`Externalizer` has replaced its networks, source model sets,
tables and libraries by small references (dicts with the key :data:`REF`);
:class:`Restorer` puts them back from a verified model folder, and
:func:`trusted_types` lists the only types skops may build on loading.
:func:`map_tree` is the walk both use.

Examples
--------
>>> from skmdl.transfer._references import KEEP, map_tree
>>> map_tree({"a": [1, 2], "b": 3}, lambda x: x * 10 if isinstance(x, int) else KEEP)
{'a': [10, 20], 'b': 30}
"""

from __future__ import annotations

from pathlib import Path

from ..library.artifact import CARD, MLP, WEIGHTS, ArtifactIntegrityError, load_artifact
from ..library.library import ModelLibrary, default_library_path
from .featurizer import SourceModels

MODEL_FILE = "model.json"
ESTIMATOR_FILE = "estimator.skops"
#: the key of the references that stand for networks, sources and tables in the estimator file
REF = "__skmdl_ref__"


class UntrustedTypeError(ArtifactIntegrityError):
    """A saved estimator asks for a type skmdl does not build on loading.

    Attributes
    ----------
    path : Path
        The estimator file.
    types : list of str
        The refused types, fully qualified (``"module.Class"``).
    """

    def __init__(self, path, types):
        self.path, self.types = Path(path), sorted(types)
        super().__init__(
            f"{path}: refusing to load types that are not on skmdl's trusted list: "
            f"{self.types} (only skmdl's estimators and the scikit-learn and numpy types "
            "they need are built; see skmdl.transfer.saving.trusted_types)")


# ------------------------------------------------------------------ the trusted types

#: types skops does not trust by default that skmdl's estimators hold (their fitted
#: trees, splitters and parameters); skops adds scikit-learn's estimators, builtins,
#: numpy arrays, dtypes, ufuncs and random states itself
EXTRA_TRUSTED = (
    "sklearn.tree._tree.Tree",
    "sklearn.model_selection._split.KFold",
    "sklearn.model_selection._split.StratifiedKFold",
    "sklearn.model_selection._split.ShuffleSplit",
    "sklearn.model_selection._split.StratifiedShuffleSplit",
    "sklearn.model_selection._split.GroupKFold",
    "sklearn.model_selection._split.RepeatedKFold",
    "sklearn.model_selection._split.PredefinedSplit",
    "sklearn.utils._bunch.Bunch",
    "skmdl.transfer.affine._KernelMap",
    "skmdl.transfer.finetune.SourceFineTuner",
    "skmdl.transfer.gate.ZeroGate",
)


def trusted_types() -> list:
    """The types a saved estimator may ask for, beyond the defaults of ``skops.io``.

    skmdl's public estimators and splitters (those named in
    ``skmdl.descriptors.__all__`` and ``skmdl.transfer.__all__``), plus the few
    scikit-learn and numpy types their fitted state needs that skops does not
    trust by default (``sklearn.tree._tree.Tree``, the K-fold splitters, numpy
    scalars). Never "everything": a file that asks for any other type is refused.

    Returns
    -------
    list of str
        Fully qualified type names.

    Examples
    --------
    >>> from skmdl.transfer.saving import trusted_types
    >>> "skmdl.transfer.estimators.TransferRegressor" in trusted_types()
    True
    >>> "builtins.eval" in trusted_types()
    False
    """
    from .. import descriptors, transfer

    names = set(EXTRA_TRUSTED)
    for module in (descriptors, transfer):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and not issubclass(obj, BaseException):
                names.add(f"{obj.__module__}.{obj.__qualname__}")
    return sorted(names)


# ------------------------------------------------------------------ references

KEEP = object()


def walks_into(obj) -> bool:
    """Whether :func:`map_tree` looks into the attributes of ``obj`` (skmdl's, sklearn's)."""
    top = type(obj).__module__.split(".")[0]
    return top in ("skmdl", "sklearn") and not isinstance(obj, type) and hasattr(obj, "__dict__")


def map_tree(obj, leaf, memo=None):
    """``obj`` with ``leaf(x)`` put in place of every part ``x`` for which it is not ``KEEP``.

    Walks lists, tuples, dicts and the attributes of skmdl's and scikit-learn's
    objects; a part that changes is a shallow copy, the rest is shared, and the
    object given is never modified.
    """
    memo = {} if memo is None else memo
    if id(obj) in memo:
        return memo[id(obj)]
    out = leaf(obj)
    if out is KEEP:
        out = obj
        if isinstance(obj, (list, tuple)):
            new = [map_tree(v, leaf, memo) for v in obj]
            if any(a is not b for a, b in zip(new, obj)):
                out = new if isinstance(obj, list) else tuple(new)
        elif isinstance(obj, dict):
            new = {k: map_tree(v, leaf, memo) for k, v in obj.items()}
            if any(new[k] is not v for k, v in obj.items()):
                out = new
        elif walks_into(obj):
            new = {k: map_tree(v, leaf, memo) for k, v in vars(obj).items()}
            if any(new[k] is not v for k, v in vars(obj).items()):
                out = object.__new__(type(obj))
                out.__dict__.update(new)
    memo[id(obj)] = out
    return out


class Externalizer:
    """Replaces the networks, source models, tables and libraries of an estimator by references.

    ``sources`` (model id -> (library, module)) and ``networks`` (name ->
    module) are what :func:`~skmdl.transfer.saving.save_model` then writes as
    safetensors.
    """

    def __init__(self):
        self.sources, self.networks = {}, {}
        self._source_of, self._network_of = {}, {}

    def collect(self, obj):
        """First pass: remember every source model set (to reference their networks by id)."""
        if isinstance(obj, SourceModels):
            for i in obj.ids:
                known = self.sources.get(i)
                if known is not None and known[1] is not obj.modules[i]:
                    raise ValueError(f"two different source models named {i!r} in one "
                                     "estimator cannot be saved together")
                self.sources[i] = (obj.library, obj.modules[i])
                self._source_of[id(obj.modules[i])] = i
            return obj
        return KEEP

    def __call__(self, obj):
        import pandas as pd
        import torch

        if isinstance(obj, SourceModels):
            return {REF: "source_models", "ids": list(obj.ids), "specs": sorted(obj.featurizers)}
        if isinstance(obj, torch.nn.Module):
            return self._network(obj)
        if type(obj).__module__.startswith("skorch."):
            return self._skorch(obj)
        if isinstance(obj, pd.DataFrame):
            plain = isinstance(obj.index, pd.RangeIndex) and obj.index.start == 0 \
                and obj.index.step == 1
            return {REF: "dataframe", "columns": [str(c) for c in obj.columns],
                    "values": [obj[c].tolist() for c in obj.columns],
                    "index": None if plain else obj.index.tolist()}
        if isinstance(obj, ModelLibrary):
            embedded = not obj.remote and \
                Path(obj.root).resolve() == default_library_path().resolve()
            return {REF: "library", "root": None if embedded else str(obj.root)}
        if isinstance(obj, dict) and REF in obj:
            raise ValueError(f"a dict with the key {REF!r} cannot be saved (it is reserved)")
        return KEEP

    def _network(self, module):
        if id(module) in self._source_of:
            return {REF: "source_network", "id": self._source_of[id(module)]}
        if not isinstance(module, MLP):
            raise TypeError(f"cannot save a torch module of type {type(module).__name__}: "
                            "only skmdl's MLP networks are saved (as safetensors)")
        name = self._network_of.get(id(module))
        if name is None:
            name = self._network_of[id(module)] = f"net{len(self.networks)}"
            self.networks[name] = module
        return {REF: "network", "name": name}

    def _skorch(self, net):
        from skorch import NeuralNetRegressor

        if type(net) is not NeuralNetRegressor or not getattr(net, "initialized_", False):
            raise TypeError(f"cannot save a {type(net).__name__}: only fitted skorch "
                            "NeuralNetRegressor nets (fine-tuned members) are saved")
        return {REF: "skorch_regressor", "module": self._network(net.module_),
                "device": str(net.device)}


class Restorer:
    """Puts back what :class:`Externalizer` replaced, from the verified model folder."""

    def __init__(self, folder, library, files):
        self.folder, self.library, self.files = Path(folder), library, files
        self._modules = {}

    def __call__(self, obj):
        if not (isinstance(obj, dict) and REF in obj):
            return KEEP
        kind = obj[REF]
        try:
            if kind == "source_models":
                sm = SourceModels(self.library, obj["ids"])
                sm.add_featurizers(obj.get("specs", ()))
                self._modules.update(sm.modules)
                return sm
            if kind == "source_network":
                if obj["id"] not in self._modules:
                    self._modules[obj["id"]] = self.library.load(obj["id"])[0]
                return self._modules[obj["id"]]
            if kind == "network":
                return self._load_network(obj["name"])
            if kind == "skorch_regressor":
                from skorch import NeuralNetRegressor

                module = map_tree(obj["module"], self)
                return NeuralNetRegressor(module, device=obj["device"]).initialize()
            if kind == "dataframe":
                import pandas as pd

                df = pd.DataFrame(dict(zip(obj["columns"], obj["values"])),
                                  columns=obj["columns"])
                if obj["index"] is not None:
                    df.index = obj["index"]
                return df
            if kind == "library":
                return obj["root"]
        except KeyError as exc:
            raise ArtifactIntegrityError(f"{self.folder / ESTIMATOR_FILE}: bad {kind!r} "
                                         f"reference ({exc})") from None
        raise ArtifactIntegrityError(f"{self.folder / ESTIMATOR_FILE}: unknown reference "
                                     f"{kind!r}")

    def _load_network(self, name):
        if not isinstance(name, str) or not name.isidentifier():
            raise ArtifactIntegrityError(f"{self.folder / ESTIMATOR_FILE}: bad network name "
                                         f"{name!r}")
        rel = f"networks/{name}"
        try:
            hashes = {"weights": self.files[f"{rel}/{WEIGHTS}"],
                      "card": self.files[f"{rel}/{CARD}"]}
        except KeyError:
            raise ArtifactIntegrityError(f"{self.folder / rel}: not among the files "
                                         f"{MODEL_FILE} records") from None
        module, _ = load_artifact(self.folder / rel, hashes)
        return module
