"""The shapes every built-in implementation shares.

``LibraryImpl`` is one implementation: a function ``(input, params, ctx) ->
output`` plus its JSON Schemas, declared params, whether it acts on the
world, and ``About``: what it does in Russian and English, for people and for
matching a description of a wanted node against it. ``define`` builds one and wraps its function so that every call

* checks the input against the input schema (``ImplError("bad_input")``),
* merges the declared param defaults under the given params and checks the
  numeric ranges and choices that are declared (``ImplError("bad_params")``),
* passes a default ``ImplContext`` when none is given.

The wrapped function receives a valid input and a complete params dict, so an
implementation only checks what the schema cannot say. Params that are not
declared are ignored: a template's params may serve other parts of a node.

Error codes: ``bad_input``, ``bad_params``, ``unknown_impl``, ``timeout``,
``unavailable`` (a tool such as espeak-ng is missing), ``failed``.

Implementations run on workers the watchdog abandons at the hard timeout but
cannot stop, so each one stops itself: loops over untrusted data call
``domain.deadlines.check()``, subprocesses get ``deadlines.left_s(...)`` as
their timeout, and a passed deadline becomes ``ImplError("timeout")``. A
``heavy`` one (native image, OCR and speech work: hundreds of MB and seconds of
CPU per call) also takes one of ``HEAVY_SLOTS`` slots, waiting at most until
its deadline, so abandoned calls cannot pile up memory and cores.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neira_factory.domain import deadlines
from neira_factory.library.schema import problems

DEFAULT_OUTPUT_DIR = Path("var/output")
HEAVY_SLOTS = 2  # heavy implementations running at once in this process (the reference machine's cores)
HEAVY_WAIT_S = 60.0  # the longest a heavy call waits for a slot when it runs with no deadline
_heavy = threading.BoundedSemaphore(HEAVY_SLOTS)


class ImplError(Exception):
    """Bad input or a failure inside an implementation."""

    def __init__(self, code: str, reason: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.field = field

    def to_dict(self) -> dict:
        body = {"code": self.code, "reason": self.reason}
        if self.field is not None:
            body["field"] = self.field
        return body


@dataclass(frozen=True)
class ImplContext:
    side_effects: bool = True  # False during dry-run: nothing written outside memory
    output_dir: Path | None = None  # where side-effecting impls write files; default ./var/output

    def resolved_output_dir(self) -> Path:
        return Path(self.output_dir) if self.output_dir is not None else DEFAULT_OUTPUT_DIR


def prune_outputs(directory: Path, before: float) -> int:
    """Delete the files side-effecting impls wrote into `directory` last modified before `before` (epoch
    seconds); how many. A file that goes while this runs (another replica's prune) is not an error."""
    removed = 0
    if not directory.is_dir():
        return 0
    for path in directory.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < before:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


ImplFunc = Callable[[dict, dict, ImplContext], dict]


@dataclass(frozen=True)
class About:
    """What an implementation does, said for people and for matching a description of a wanted node against
    it (commands/describe.py): a sentence in Russian and one in English, the words people use for what it does
    (Russian in any form, English in any inflection), an input it runs on, and the params it cannot run
    without (no working default: a node made from a description alone, with the defaults, would not run)."""

    ru: str
    en: str
    words: tuple[str, ...]
    example: dict
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class LibraryImpl:
    name: str
    func: ImplFunc  # (input, params, ctx) -> output JSON dict
    input_schema: dict  # JSON Schema of input (type object, properties, required)
    output_schema: dict  # JSON Schema of output
    description: str
    side_effects: bool = False  # True for impls that act on the world (write files)
    params: dict = field(default_factory=dict)  # {name: {value, min?, max?, step?, choices?, tunable?}}
    heavy: bool = False  # native work of seconds and hundreds of MB: runs in one of HEAVY_SLOTS
    about: About | None = None  # every registered one has it (define requires it)


def define(
    name: str,
    run: ImplFunc,
    *,
    input_schema: dict,
    output_schema: dict,
    description: str,
    side_effects: bool = False,
    params: dict | None = None,
    heavy: bool = False,
    about: About,
) -> LibraryImpl:
    """Build a ``LibraryImpl`` whose ``func`` validates before calling ``run`` (in a heavy slot when
    ``heavy``), and turns a passed deadline into ``ImplError("timeout")``."""
    declared = params or {}

    def func(input: Any, params: Any = None, ctx: ImplContext | None = None) -> dict:
        found = problems(input, input_schema)
        if found:
            raise ImplError("bad_input", "; ".join(found), field=found[0].split(":", 1)[0])
        merged = merge_params(declared, params)
        try:
            with heavy_slot(name) if heavy else nullcontext():
                return run(input, merged, ctx or ImplContext())
        except deadlines.Expired:
            raise ImplError("timeout", f"{name} ran past the call's deadline and stopped") from None

    func.__name__ = func.__qualname__ = f"{name}_impl"
    func.__doc__ = description
    return LibraryImpl(name, func, input_schema, output_schema, description, side_effects, declared, heavy, about)


@contextmanager
def heavy_slot(name: str) -> Iterator[None]:
    """One of HEAVY_SLOTS, waited for until the call's deadline (ImplError "timeout" when none frees up)."""
    if not _heavy.acquire(timeout=deadlines.left_s(HEAVY_WAIT_S)):
        raise ImplError("timeout", f"{name}: all {HEAVY_SLOTS} slots for heavy work stayed busy until the deadline")
    try:
        yield
    finally:
        _heavy.release()


def merge_params(declared: dict, given: Any) -> dict:
    """Declared defaults overlaid by ``given``; ranges and choices checked."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise ImplError("bad_params", f"params must be an object, got {type(given).__name__}", "params")
    merged = {key: spec["value"] for key, spec in declared.items()} | given
    for key, spec in declared.items():
        value = merged[key]
        if "choices" in spec and value not in spec["choices"]:
            raise ImplError("bad_params", f"{key} must be one of {spec['choices']}, got {value!r}", f"params.{key}")
        if "min" in spec or "max" in spec:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ImplError("bad_params", f"{key} must be a number, got {value!r}", f"params.{key}")
            low, high = spec.get("min", value), spec.get("max", value)
            if not low <= value <= high:
                raise ImplError("bad_params", f"{key} must be within [{low}, {high}], got {value}", f"params.{key}")
    return merged


def require_param(params: dict, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    """``params[key]`` when it is a non-empty ``kind``, else ``ImplError``."""
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, kind) or (not value and value != 0):
        raise ImplError("bad_params", f"{key} must be {what}, got {value!r}", f"params.{key}")
    return value
