"""Transfer estimators: pretrained source models as features, screened and ensembled."""

from .estimators import TransferRegressor
from .featurizer import PretrainedFeaturizer

__all__ = ["PretrainedFeaturizer", "TransferRegressor"]
