"""Mixins shared by skmdl's estimators."""

from sklearn.utils.validation import check_is_fitted


class MaterialsInputMixin:
    """Estimators whose inputs are formulas, structures or SMILES, not 2-d arrays.

    Sets the scikit-learn tags accordingly (sklearn's generic checks then do
    not feed them numeric arrays). Put it left of ``BaseEstimator``.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags


class FeatureNamesMixin:
    """``get_feature_names_out`` from the fitted ``feature_names_out_`` attribute."""

    def get_feature_names_out(self, input_features=None):
        """Names of the output features."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()


def as_item_list(X, what: str) -> list:
    """Inputs (list, Series, 1-column DataFrame, 1-d or (n, 1) array, iterable) as a list.

    Items are never coerced through numpy, so formulas, Structures and Mol
    objects stay what they are. ``what`` names the items in error messages
    ("formulas", "SMILES", "structures"). Callers reject single items (a bare
    string, Structure, Mol) before calling this.

    Examples
    --------
    >>> import pandas as pd
    >>> as_item_list(pd.DataFrame({"formula": ["NaCl", "MgO"]}), "formulas")
    ['NaCl', 'MgO']
    """
    import numpy as np
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"expected one column of {what}, got a DataFrame with {X.shape[1]} columns")
        X = X.iloc[:, 0]
    if isinstance(X, pd.Series):
        return X.tolist()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(f"expected a 1-d sequence of {what}, got shape {X.shape}")
        return X.tolist()
    try:
        return list(X)
    except TypeError:
        raise ValueError(f"expected a sequence of {what}, got {type(X).__name__}") from None

