"""Shared helpers for the Rhai interpreter tests."""

import pytest

from neira_factory.rhai import Engine, RhaiError


@pytest.fixture
def engine():
    return Engine()


def check_cases(engine, cases):
    """Each case is (script, expected value) or (script, RhaiError kind string via `err`)."""
    for script, expected in cases:
        if isinstance(expected, Err):
            with pytest.raises(RhaiError) as info:
                engine.eval(script)
            assert info.value.kind == expected.kind, (script, info.value)
        else:
            got = engine.eval(script)
            assert got == expected and type(got) is type(expected), (script, got, expected)


class Err:
    """Expected error kind in a case table."""

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return f"Err({self.kind})"
