"""Transfer estimators: pretrained source models as features, screened and ensembled."""

from .affine import AffineTransferRegressor
from .estimators import TransferClassifier, TransferRegressor
from .featurizer import PretrainedFeaturizer
from .splits import ExtrapolationSplit

__all__ = ["AffineTransferRegressor", "ExtrapolationSplit", "PretrainedFeaturizer", "TransferClassifier",
           "TransferRegressor"]
