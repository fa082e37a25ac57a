"""The search: spaces from ParamSpecs, golden-section on smooth and step objectives, grids, coordinate
search over several params, determinism (the basis of resuming a run) and no repeated proposals."""
import pytest

from neira_factory.domain.errors import BadInput
from neira_factory.domain.templates import ParamSpec
from neira_factory.training.search import GRID_MAX, CoordinateSearch, Dimension, build_space, dimension, key


def drive(search: CoordinateSearch, fn, budget: int = 500):
    """Run the search to its end, answering with fn(params); returns the proposals in order."""
    proposals = []
    gen = search.run()
    try:
        params = next(gen)
        while len(proposals) < budget:
            proposals.append(params)
            params = gen.send(fn(params))
    except StopIteration as stop:
        assert stop.value == "exhausted"
    return proposals


def best_of(proposals, fn, maximize=True):
    return (max if maximize else min)(proposals, key=fn)


def spec(**kw):
    return ParamSpec(tunable=True, **kw)


def test_spaces_from_param_specs():
    assert dimension("m", spec(value="a", choices=["a", "b", "a"])).values == ("a", "b")
    assert dimension("flag", spec(value=True)).values == (False, True)
    assert dimension("k", spec(value=2, min=0, max=5)).values == (0, 1, 2, 3, 4, 5)  # an int range is a grid
    assert dimension("t", spec(value=0.5, min=0, max=1, step=0.25)).values == (0.0, 0.25, 0.5, 0.75, 1.0)
    wide = dimension("t", spec(value=0.5, min=0, max=1, step=0.01))
    assert not wide.grid and wide.step == 0.01 and wide.xtol == 0.01
    big = dimension("n", spec(value=10, min=0, max=1000))
    assert not big.grid and big.integer and big.snap(12.6) == 13
    free = dimension("t", spec(value=0.5, min=0, max=2))
    assert not free.grid and free.xtol == pytest.approx(0.01) and free.snap(3) == 2.0
    assert dimension("one", spec(value=1.0, min=1, max=1)).values == (1.0,)


def test_a_param_without_a_range_or_choices_cannot_be_searched():
    with pytest.raises(BadInput) as exc:
        dimension("t", spec(value=0.5, min=0))
    assert exc.value.extra == {"field": "params", "param": "t"} and "min" in exc.value.reason


def test_build_space_names_unknown_and_non_tunable_params():
    params = {"threshold": spec(value=0.5, min=0, max=1), "keywords": ParamSpec(value={})}
    assert [d.name for d in build_space(params, None)] == ["threshold"]
    for name, words in (("nope", "not a param"), ("keywords", "not tunable")):
        with pytest.raises(BadInput) as exc:
            build_space(params, [name])
        assert exc.value.extra["param"] == name and words in exc.value.reason
    with pytest.raises(BadInput) as exc:
        build_space({"keywords": ParamSpec(value={})}, None)
    assert "no tunable params" in exc.value.reason


def test_the_first_proposal_is_the_baseline():
    dims = [dimension("t", spec(value=0.3, min=0, max=1))]
    assert next(CoordinateSearch(dims, {"t": 0.3}, True).run()) == {"t": 0.3}
    assert next(CoordinateSearch(dims, {}, True).run()) == {"t": 0.5}  # no value: the middle


def test_golden_section_finds_the_minimum_of_a_smooth_function():
    dims = [dimension("x", spec(value=0.0, min=-2, max=3))]
    fn = lambda p: (p["x"] - 0.737) ** 2
    proposals = drive(CoordinateSearch(dims, {"x": 0.0}, maximize=False), fn)
    assert abs(best_of(proposals, fn, maximize=False)["x"] - 0.737) <= dims[0].xtol
    assert len(proposals) <= 25


def test_a_step_function_with_plateaus_lands_in_its_best_interval():
    # accuracy against a threshold: best on (0.8, 0.857], plateaus elsewhere, not unimodal at the edges
    def accuracy(p):
        t = p["t"]
        return 1.0 if 0.8 < t <= 0.857 else 0.8 if 0.667 < t <= 0.8 or 0.857 < t <= 0.9 else 0.6
    dims = [dimension("t", spec(value=0.5, min=0, max=1))]
    proposals = drive(CoordinateSearch(dims, {"t": 0.5}, maximize=True), accuracy)
    assert 0.8 < best_of(proposals, accuracy)["t"] <= 0.857


def test_failed_evaluations_are_the_worst():
    dims = [dimension("x", spec(value=0.5, min=0, max=1))]
    fn = lambda p: None if p["x"] > 0.6 else p["x"]
    proposals = drive(CoordinateSearch(dims, {"x": 0.5}, maximize=True), fn)
    best = max((p for p in proposals if fn(p) is not None), key=fn)
    assert 0.55 <= best["x"] <= 0.6


def test_grid_tries_every_choice_once():
    dims = [dimension("mode", spec(value="b", choices=["a", "b", "c", "d"]))]
    scores = {"a": 0.1, "b": 0.2, "c": 0.9, "d": 0.5}
    proposals = drive(CoordinateSearch(dims, {"mode": "b"}, True), lambda p: scores[p["mode"]])
    assert [p["mode"] for p in proposals] == ["b", "a", "c", "d"]


def test_coordinate_search_over_two_continuous_params_and_a_grid():
    dims = [dimension("x", spec(value=0.0, min=-1, max=1)), dimension("y", spec(value=0.0, min=-1, max=1)),
            dimension("mode", spec(value="a", choices=["a", "b"]))]

    def loss(p):
        return (p["x"] - 0.3) ** 2 + (p["y"] + 0.6) ** 2 + (0 if p["mode"] == "b" else 0.5)

    proposals = drive(CoordinateSearch(dims, {"x": 0.0, "y": 0.0, "mode": "a"}, maximize=False), loss)
    best = best_of(proposals, loss, maximize=False)
    assert best["mode"] == "b" and abs(best["x"] - 0.3) < 0.02 and abs(best["y"] + 0.6) < 0.02


def test_no_param_set_is_proposed_twice_and_the_search_is_deterministic():
    dims = [dimension("x", spec(value=0.2, min=0, max=1, step=0.05)), dimension("k", spec(value=1, min=0, max=4))]
    fn = lambda p: -abs(p["x"] - 0.65) - abs(p["k"] - 3)
    first = drive(CoordinateSearch(dims, {"x": 0.2, "k": 1}, True), fn)
    assert len({key(p) for p in first}) == len(first)
    assert all(abs(p["x"] / 0.05 - round(p["x"] / 0.05)) < 1e-9 for p in first)  # snapped to the step
    assert drive(CoordinateSearch(dims, {"x": 0.2, "k": 1}, True), fn) == first
    assert best_of(first, fn) == {"x": 0.65, "k": 3}


def test_grid_max_bounds_what_a_step_makes_a_grid():
    assert dimension("t", spec(value=0, min=0, max=GRID_MAX - 1, step=1)).grid
    assert not dimension("t", spec(value=0, min=0, max=GRID_MAX, step=1)).grid


def test_dimension_start_maps_a_value_into_the_space():
    d = Dimension("t", (0.0, 0.5, 1.0), 0, 1, 0.5)
    assert d.start(0.4) == 0.5 and d.start("x") == 0.0
    assert dimension("t", spec(value=0.5, min=0, max=1)).start(7) == 1.0
