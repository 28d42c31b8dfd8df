"""ExtrapolationSplit: validation on the tail of y, and its parameters validated in split()."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skmdl.transfer import ExtrapolationSplit


@pytest.mark.parametrize("params", [
    {"fractions": 1.5}, {"fractions": (0.1, 1.0)}, {"fractions": ()}, {"fractions": "0.1"},
    {"fractions": (0.1, "x")}, {"tail": "middle"}, {"tail": None},
])
def test_invalid_parameters_are_refused_by_split(params):
    y = np.arange(10.0)
    cv = ExtrapolationSplit(**params)  # stored untouched: no error yet
    with pytest.raises(InvalidParameterError):
        next(cv.split(y, y))
    with pytest.raises(InvalidParameterError):
        cv.get_n_splits()


def test_valid_parameters():
    y = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    assert ExtrapolationSplit(fractions=0.4).get_n_splits() == 1
    lower = [te.tolist() for _, te in ExtrapolationSplit(fractions=[0.2], tail="lower").split(y, y)]
    assert lower == [[1]]
    with pytest.raises(ValueError, match="needs y"):
        next(ExtrapolationSplit().split(y))
