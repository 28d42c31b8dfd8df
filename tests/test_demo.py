"""The bundled demo (``skmdl demo``): descriptors plus a random forest on steels."""


def test_demo_runs():
    from skmdl.demo import run

    result = run(n_estimators=30, verbose=False)
    assert result["n_samples"] == 312
    assert 50 < result["mae_mean"] < 200  # a random forest on steels: ~95 MPa
