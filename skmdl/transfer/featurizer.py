"""PretrainedFeaturizer: frozen hidden layers of source models as features."""

from __future__ import annotations

import os

import json
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ..library.library import ModelLibrary, module_hidden
from ..utils._base import FeatureNamesMixin, MaterialsInputMixin


def resolve_library(library) -> ModelLibrary:
    """A ModelLibrary from ``None`` (the embedded one), a path/URL, or an instance."""
    if library is None:
        return ModelLibrary.default()
    if isinstance(library, ModelLibrary):
        return library
    return ModelLibrary(library)


class SourceModels:
    """Loaded source models sharing featurization.

    Models whose descriptor specs are identical are fed from one feature
    matrix, so asking for 20 models of the same descriptor featurizes once.
    The fitted transfer estimators hold one as ``source_models_``.

    Attributes
    ----------
    library : ModelLibrary
        Where the models were loaded from.
    ids : list of str
    modules : dict
        Model id -> torch module (eval mode).
    spec_of : dict
        Model id -> its descriptor spec as canonical JSON text.
    featurizers : dict
        Descriptor spec -> fitted featurizer.
    """

    def __init__(self, library, model_ids, n_jobs=None):
        self.library = library
        self.ids = list(model_ids)
        self.modules, self.spec_of = {}, {}
        self.featurizers = {}
        for model_id in self.ids:
            module, featurizer = library.load(model_id, n_jobs=n_jobs)
            spec = json.dumps(library.card(model_id)["descriptor"], sort_keys=True)
            self.modules[model_id] = module
            self.spec_of[model_id] = spec
            self.featurizers.setdefault(spec, featurizer)

    def subset(self, model_ids, specs=()) -> "SourceModels":
        """The same loaded models restricted to ``model_ids`` (nothing is reloaded),
        keeping the featurizers of their descriptor specs and of ``specs``."""
        out = object.__new__(SourceModels)
        out.library = self.library
        out.ids = list(model_ids)
        out.modules = {i: self.modules[i] for i in out.ids}
        out.spec_of = {i: self.spec_of[i] for i in out.ids}
        specs = set(out.spec_of.values()) | set(specs)
        out.featurizers = {k: f for k, f in self.featurizers.items() if k in specs}
        return out

    def add_featurizers(self, specs) -> None:
        """Featurizers for descriptor specs (canonical JSON text) no loaded model uses.

        Rebuilt from the spec by the allow-listed
        :func:`~skmdl.library.artifact.featurizer_from_spec`.
        """
        from ..library.artifact import featurizer_from_spec

        for spec in specs:
            if spec not in self.featurizers:
                self.featurizers[spec] = featurizer_from_spec(json.loads(spec))

    def features(self, X) -> dict:
        """Descriptor matrix per distinct descriptor spec."""
        return {spec: f.transform(X).astype(np.float32) for spec, f in self.featurizers.items()}

    def hidden(self, model_id, F_by_spec, layers) -> np.ndarray:
        return module_hidden(self.modules[model_id], F_by_spec[self.spec_of[model_id]], layers)

    def widths(self, model_id, layers) -> list:
        """``(layer, width)`` per requested layer, hidden indices made non-negative."""
        module = self.modules[model_id]
        n = len(module.hidden)
        return [(i if i == "output" else i % n, module.layer_width(i)) for i in layers]


def as_layers(layers) -> list:
    """``layers`` parameter -> list: an int or ``"output"`` alone, or a sequence of them."""
    if isinstance(layers, (Integral, str)):
        layers = [layers]
    layers = list(layers)
    bad = [v for v in layers if v != "output" and not isinstance(v, Integral)]
    if bad or not layers:
        raise ValueError(f"layers must be hidden-layer indices and/or 'output', got {layers!r}")
    return layers


class PretrainedFeaturizer(MaterialsInputMixin, FeatureNamesMixin, TransformerMixin,
                           BaseEstimator):
    """Hidden-layer activations of frozen pretrained source models, as features.

    Each source model applies its own featurizer (recorded in its card) to the
    raw inputs; the activations of the chosen hidden layers of all models are
    concatenated.

    Parameters
    ----------
    models : str or list of str
        Model ids of the library (see ``ModelLibrary.search``).
    layers : int, "output" or sequence of them, default=(-1,)
        Hidden layers to output, 0-based; negative counts from the last.
        ``"output"`` adds each model's prediction of its own source property
        (a single, physically named feature per model, e.g. a predicted
        shear modulus; linear heads on these extrapolate best in
        ``benchmarks/ltc_extrapolation.py``).
    library : None, str, Path or ModelLibrary, default=None
        The model library: ``None`` for the embedded default library, a folder
        or a URL. Models are loaded in ``fit``, so cloning is cheap.
    n_jobs : int, default=None
        Passed to the source models' featurizers.

    Attributes
    ----------
    model_ids_ : list of str
    feature_names_out_ : ndarray of str
        ``"{model_id}:{layer}:{unit}"`` (``layer`` is ``output`` for the predictions).

    Examples
    --------
    >>> from skmdl.library import ModelLibrary
    >>> from skmdl.transfer import PretrainedFeaturizer
    >>> ids = ModelLibrary.default().search(task="mp_e_hull")["id"][:2].tolist()
    >>> f = PretrainedFeaturizer(models=ids).fit(["Fe2O3"])
    >>> H = f.transform(["Fe2O3", "NaCl"])
    >>> H.shape[0], H.shape[1] == len(f.get_feature_names_out())
    (2, True)
    """

    _parameter_constraints = {
        "models": [str, list, tuple],
        "layers": [list, tuple, Integral, StrOptions({"output"})],
        "library": [None, str, os.PathLike, ModelLibrary],
        "n_jobs": [Integral, None],
    }

    def __init__(self, models=(), layers=(-1,), library=None, n_jobs=None):
        self.models = models
        self.layers = layers
        self.library = library
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Load the source models (``X`` and ``y`` are not used)."""
        ids = [self.models] if isinstance(self.models, str) else list(self.models)
        if not ids:
            raise ValueError("PretrainedFeaturizer needs at least one model id")
        layers = as_layers(self.layers)
        lib = resolve_library(self.library)
        self.sources_ = SourceModels(lib, ids, n_jobs=self.n_jobs)
        self.model_ids_ = ids
        self.layers_ = layers
        names = []
        for model_id in ids:
            for layer, width in self.sources_.widths(model_id, layers):
                names += [f"{model_id}:{layer}:{u}" for u in range(width)]
        self.feature_names_out_ = np.asarray(names, dtype=object)
        return self

    def transform(self, X):
        """Activations for raw inputs ``X`` (formulas, ...), float32."""
        check_is_fitted(self, "feature_names_out_")
        F = self.sources_.features(X)
        blocks = [self.sources_.hidden(m, F, self.layers_) for m in self.model_ids_]
        return np.hstack(blocks)
