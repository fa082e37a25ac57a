"""The plot: a PNG, drawn with failed evaluations, a best and a target, or with nothing but failures."""
from neira_factory.training.plot import metric_png

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_plot_with_failures_best_and_target():
    iterations = [{"n": 1, "metric": 0.5, "params": {"t": 0.5}}, {"n": 2, "metric": None, "params": {"t": 0.9}},
                  {"n": 3, "metric": 0.9, "params": {"t": 0.7, "mode": "fast"}}]
    png = metric_png(iterations, title="tr-x · analysis.a.v1", objective="accuracy", maximize=True, target=0.95,
                     best=3, subtitle="a long reason " * 30)
    assert png.startswith(PNG) and len(png) > 5000


def test_a_plot_of_failures_only_and_a_minimised_metric():
    assert metric_png([{"n": 1, "metric": None}], title="t", objective="mse", maximize=False).startswith(PNG)
    assert metric_png([{"n": 1, "metric": 3.0}, {"n": 2, "metric": 1.0}], title="t", objective="mse",
                      maximize=False, best=2).startswith(PNG)
