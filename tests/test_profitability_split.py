"""How the profitability model's months are split: never trained on months after the months it
is measured on, and a two-year history still gets a measured model."""

import pytest

from ml.estimators.profitability import dataset
from ml.estimators.profitability.train import inner_splits, split_months

GAP = dataset.HORIZON - 1


@pytest.mark.parametrize("available,block", [(30, 6), (23, 6), (19, 4), (17, 3)])
def test_blocks_shrink_with_a_short_history_and_keep_their_gaps(available, block):
    all_months = list(range(100, 100 + available))
    fit, calibration, test = split_months(all_months)
    assert len(test) == len(calibration) == block and test == all_months[-block:]
    # Every row a block learns or calibrates from has its whole next quarter known by the
    # block's first month.
    assert max(calibration) + dataset.HORIZON <= min(test)
    assert max(fit) + dataset.HORIZON <= min(calibration)
    for train, validate in inner_splits(fit):
        assert train and max(train) + dataset.HORIZON <= min(validate)


def test_too_short_a_history_says_how_much_is_needed():
    with pytest.raises(ValueError, match=r"needs at least 17 as-of months .* has 16"):
        split_months(list(range(16)))
