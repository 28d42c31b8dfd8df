"""Transfer estimators: pretrained source models as features, screened and ensembled."""

from .affine import AffineTransferRegressor
from .estimators import TransferClassifier, TransferRegressor
from .featurizer import PretrainedFeaturizer

__all__ = ["AffineTransferRegressor", "PretrainedFeaturizer", "TransferClassifier",
           "TransferRegressor"]
