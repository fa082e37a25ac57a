"""How a node's memory cap is split between a WASM instance's linear memory (one at most) and its tables
(MAX_TABLES at most), so that everything the instance allocates stays within the cap together (wasmtime's
store limits apply the split), and why a module cannot start within it."""
from __future__ import annotations

from dataclasses import dataclass

from .wasm_runtime import Compiled

TABLE_SHARE = 16  # tables share 1/TABLE_SHARE of the memory cap (see `allowance`)
TABLE_ELEMENT_BYTES = 8  # what wasmtime spends on one table element
MAX_TABLES = 8


@dataclass(frozen=True)
class Allowance:
    """The memory cap split between the instance's linear memory (one at most) and its tables (MAX_TABLES
    at most), all within the cap together: each table may hold `table_elements` (cap / TABLE_SHARE over
    the tables), reserved in full for a table that can grow and at its own size for one that cannot; the
    memory gets the rest. `problem`: (error, why) when the module cannot start within that."""

    memory: int
    table_elements: int
    problem: tuple[str, str] | None = None


def allowance(compiled: Compiled, cap: int) -> Allowance:
    """The module's Allowance under this cap (worked out once per cap)."""
    found = compiled.memo.get(("allowance", cap))
    if found is None:
        found = compiled.memo[("allowance", cap)] = _allowance(compiled, cap)
    return found


def _allowance(compiled: Compiled, cap: int) -> Allowance:
    tables = compiled.tables
    per_table = cap // TABLE_SHARE // TABLE_ELEMENT_BYTES // max(1, len(tables))
    memory = cap - TABLE_ELEMENT_BYTES * sum(per_table if t.growable else t.minimum for t in tables)
    problem = None
    if compiled.memories > 1:
        problem = ("memory_count", f"the module defines {compiled.memories} memories; one at most may start")
    elif len(tables) > MAX_TABLES:
        problem = ("table_count", f"the module defines {len(tables)} tables; at most {MAX_TABLES} may start")
    elif any(t.minimum > per_table for t in tables):
        problem = ("table_minimum", f"the module needs a table of {max(t.minimum for t in tables)} elements to "
                   f"start; the memory cap allows {per_table} per table")
    elif compiled.memory_min_bytes > memory:
        problem = ("memory_minimum", f"the module needs {compiled.memory_min_bytes} bytes of memory to start; "
                   f"the memory cap leaves {memory} to its memory")
    return Allowance(max(0, memory), per_table, problem)
