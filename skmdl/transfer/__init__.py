"""Transfer estimators: pretrained source models as features, screened and ensembled."""

from .affine import AffineTransferRegressor
from .classifier import TransferClassifier
from .conformal import ConformalRegressor
from .estimators import TransferRegressor
from .featurizer import PretrainedFeaturizer
from .splits import ElementCountSplit, ExtrapolationSplit

__all__ = ["AffineTransferRegressor", "ConformalRegressor", "ElementCountSplit", "ExtrapolationSplit",
           "PretrainedFeaturizer", "TransferClassifier", "TransferRegressor"]
