"""The bundled demo (``skmdl demo``): direct vs transfer on experimental band gaps."""


def test_demo_runs():
    from skmdl.demo import run

    result = run(verbose=False, n_rows=300)
    assert (result["n_train"], result["n_test"]) == (240, 60)
    assert 0.1 < result["direct_mae"] < 1.5 and 0.1 < result["transfer_mae"] < 1.5
    assert abs(sum(result["members"].values()) - 1) < 1e-9
    assert result["ratio"] == result["transfer_mae"] / result["direct_mae"]
