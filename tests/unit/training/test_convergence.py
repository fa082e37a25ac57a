"""Convergence rules: target, patience with tolerance, max_iterations, repeated errors, approve_every."""
from neira_factory.training.convergence import Rules, Tracker


def tracker(**kw):
    base = {"maximize": True, "max_iterations": 10, "tolerance": 0.01, "patience": 3, "max_errors": 3}
    return Tracker(Rules(**{**base, **kw}))


def feed(t, metrics):
    verdicts = []
    for m in metrics:
        t.add(m, None if m is not None else "boom")
        verdicts.append(t.verdict())
    return verdicts


def test_target_reached_converges_at_once():
    t = tracker(target=0.9)
    v = feed(t, [0.5, 0.95])
    assert v[0] is None and v[1].state == "converged" and v[1].cause == "target" and t.best_n == 2


def test_target_when_minimising():
    t = tracker(maximize=False, target=0.1)
    assert feed(t, [0.5, 0.2, 0.05])[-1].cause == "target"


def test_patience_counts_iterations_that_improve_by_less_than_tolerance():
    t = tracker()
    v = feed(t, [0.5, 0.6, 0.605, 0.6, 0.606])
    assert [x and x.cause for x in v] == [None, None, None, None, "patience"]
    assert t.best == 0.606 and t.best_n == 5  # a small gain still becomes the best


def test_a_real_improvement_resets_patience():
    assert feed(tracker(), [0.5, 0.5, 0.5, 0.7, 0.7, 0.7]) == [None] * 6
    assert feed(tracker(), [0.5, 0.5, 0.5, 0.5])[-1].cause == "patience"


def test_max_iterations_is_not_converged():
    v = feed(tracker(max_iterations=4, patience=100), [0.1, 0.2, 0.3, 0.4])
    assert v[-1].state == "not_converged" and v[-1].cause == "max_iterations"


def test_repeated_errors_fail_and_a_success_resets_them():
    assert feed(tracker(patience=100), [0.5, None, None, 0.6, None, None])[-1] is None
    v = feed(tracker(patience=100), [0.5, None, None, None])
    assert v[-1].state == "failed" and "boom" in v[-1].reason


def test_errors_win_over_patience():
    assert feed(tracker(patience=2, max_errors=2), [0.5, None, None])[-1].state == "failed"


def test_exhausted_search():
    t = tracker()
    feed(t, [0.4, 0.7])
    assert t.exhausted().state == "converged" and t.exhausted().cause == "exhausted"
    t = tracker(max_errors=10, patience=100)
    feed(t, [None])
    assert t.exhausted().state == "failed"


def test_approve_every_checkpoints():
    t = tracker(approve_every=2, patience=100)
    marks = []
    for m in [0.1, 0.2, 0.3, 0.4]:
        t.add(m)
        marks.append(t.checkpoint())
    assert marks == [False, True, False, True]
    assert not tracker().checkpoint()
