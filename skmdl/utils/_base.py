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
