"""WasmBackend: WASI modules on wasmtime under fuel, a memory cap and an epoch deadline; every failure an
ExecutionError of the right kind; the dry-run's findings. The C examples are built once per session by
scripts/build_wasm.sh (clang --target=wasm32-wasi); small edge cases are written in WAT here."""
from __future__ import annotations

import base64
import hashlib
import shutil
import threading
import time
from pathlib import Path

import pytest
from wasm_support import build_modules
import wasmtime
import yaml

from neira_factory.backends.base import ExecContext, ExecutionError
from neira_factory.backends.wasm import MAX_WASM_STACK, WasmBackend, WasmIntegrityError
from neira_factory.backends.wasm_runtime import ArtifactReader, Runtime
from neira_factory.domain.templates import NodeTemplate
from neira_factory.immune.integrity import IntegrityError
from neira_factory.services.dryrun import _matches

ROOT = Path(__file__).resolve().parents[2]
MARGIN_S = 0.5  # scheduling slack on a busy test machine
ENOUGH_FUEL = 10**13


@pytest.fixture(scope="session")
def modules(tmp_path_factory) -> Path:
    return build_modules(tmp_path_factory)


@pytest.fixture
def backend() -> WasmBackend:
    return WasmBackend(Runtime(), ArtifactReader())


def context(deadline: float | None = None) -> ExecContext:
    return ExecContext(side_effects=False, resolve=lambda node_id: None, execute=None, deadline=deadline)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def from_file(path: Path, abi: str = "neira-json-v1", pin: bool = True, **fields) -> NodeTemplate:
    wasm = {"module": str(path), "abi": abi, **({"sha256": digest(path)} if pin else {})}
    return NodeTemplate(id="analysis.wasm_test.v1", version="0.1.0", analysis_type="wasm_test", wasm=wasm, **fields)


def from_wat(wat: str, abi: str = "neira-json-v1", **fields) -> NodeTemplate:
    module = base64.b64encode(bytes(wasmtime.wat2wasm(wat))).decode()
    return NodeTemplate(id="analysis.wasm_test.v1", version="0.1.0", analysis_type="wasm_test",
                        wasm={"module": module, "abi": abi}, **fields)


def failure(backend: WasmBackend, t: NodeTemplate, data=None, ctx: ExecContext | None = None) -> ExecutionError:
    with pytest.raises(ExecutionError) as caught:
        backend.run(t, {} if data is None else data, ctx or context())
    assert caught.value.extra["node"] == t.id
    return caught.value


def risks(backend: WasmBackend, t: NodeTemplate) -> dict[str, dict]:
    return {r.code: r.to_dict() for r in backend.check(t)}


def returning(text: bytes, at: int = 16, length: int | None = None, pages: int = 1) -> str:
    """A neira-json-v1 module whose neira_run answers `length` bytes at `at` (`text` stored there)."""
    data = "".join(f"\\{b:02x}" for b in text)
    n = len(text) if length is None else length
    return f"""(module
      (memory (export "memory") {pages})
      (data (i32.const {at}) "{data}")
      (func (export "neira_alloc") (param i32) (result i32) (i32.const 4096))
      (func (export "neira_run") (param i32 i32) (result i64)
        (i64.or (i64.shl (i64.const {at}) (i64.const 32)) (i64.const {n}))))"""


# -- the examples ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["analysis.wasm_echo.v1", "analysis.wasm_grayscale.v1",
                                  "analysis.wasm_word_count.v1"])
def test_each_pinned_example_checks_clean_and_gives_its_expected_outputs(backend, modules, name):
    doc = yaml.safe_load((modules / "templates" / f"{name}.yaml").read_text(encoding="utf-8"))
    t = NodeTemplate.model_validate(doc)
    assert Path(t.wasm.module).is_absolute() and t.wasm.sha256 == digest(Path(t.wasm.module))
    found = backend.check(t)
    assert [r.code for r in found] == ["wasm_module"], found
    for example in t.examples:
        ctx = context()
        assert _matches(example.expected, backend.run(t, example.input, ctx))
        assert ctx.usage["operations"] > 0 and ctx.usage["memory_bytes"] >= 65536


def test_the_example_templates_in_the_repository_name_modules_the_build_makes(modules):
    for path in sorted((ROOT / "examples" / "wasm").glob("*.yaml")):
        t = NodeTemplate.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        assert t.id == path.name.removesuffix(".yaml") and t.backend == "wasm"
        assert (modules / t.wasm.module).is_file() and t.wasm.sha256 is None


def test_echo_answers_its_input_and_reports_fuel_and_memory(backend, modules):
    ctx = context()
    data = {"text": "привет", "n": [1, 2.5, None, True], "nested": {"a": {"b": "\u2028"}}}
    assert backend.run(from_file(modules / "echo.wasm"), data, ctx) == data
    assert 0 < ctx.usage["operations"] < 100_000 and ctx.usage["memory_bytes"] == 2 * 65536


def test_grayscale_takes_its_param_through_neira_params(backend, modules):
    rgba = base64.b64encode(bytes([255, 0, 0, 255, 0, 0, 0, 0])).decode()
    t = from_file(modules / "grayscale.wasm", params={"background": {"value": 0}})
    assert backend.run(t, {"width": 2, "height": 1, "rgba": rgba}, context())["gray"] == \
        base64.b64encode(bytes([76, 0])).decode()
    refused = from_file(modules / "grayscale.wasm", params={"background": {"value": 300}})
    err = failure(backend, refused, {"width": 2, "height": 1, "rgba": rgba})
    assert err.kind == "exception" and err.extra["error"] == "params_refused"


def test_a_module_that_exits_non_zero_fails_with_what_it_said_on_stderr(backend, modules):
    ctx = context()
    err = failure(backend, from_file(modules / "grayscale.wasm"), {"width": 0}, ctx)
    assert err.kind == "exception" and err.extra["error"] == "exit" and err.extra["exit_code"] == 2
    assert "width and height must be 1..16384" in err.reason and "width and height" in err.extra["stderr"]
    assert ctx.log == ["stderr: grayscale: width and height must be 1..16384"]


def test_a_command_reads_stdin_and_answers_on_stdout(backend, modules):
    t = from_file(modules / "word_count.wasm", abi="wasi-command")
    assert backend.run(t, {"text": "a b\nc"}, context()) == {"words": 3, "lines": 2, "chars": 5, "bytes": 5}


# -- no state between calls ------------------------------------------------------------------------------

COUNTER = """(module
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (global $initialized (mut i32) (i32.const 0))
  (data (i32.const 16) "{\\"calls\\":0}")
  (func (export "_initialize") (global.set $initialized (i32.add (global.get $initialized) (i32.const 1))))
  (func (export "neira_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "neira_run") (param i32 i32) (result i64)
    (if (i32.ne (global.get $initialized) (i32.const 1)) (then unreachable))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store8 (i32.const 25) (i32.add (i32.load8_u (i32.const 25)) (global.get $calls)))
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 11))))"""


def test_every_call_gets_a_fresh_instance_initialized_once(backend):
    t = from_wat(COUNTER)
    assert [backend.run(t, {}, context()) for _ in range(3)] == [{"calls": 1}] * 3


def test_a_module_is_compiled_once_per_sha256(backend, modules):
    t = from_file(modules / "echo.wasm")
    for _ in range(3):
        backend.run(t, {"x": 1}, context())
    backend.check(t)
    assert backend.runtime.misses == 1 and backend.runtime.hits >= 3


# -- limits ----------------------------------------------------------------------------------------------

def test_an_endless_loop_runs_out_of_fuel(backend, modules):
    ctx = context()
    started = time.monotonic()
    err = failure(backend, from_file(modules / "hostile" / "spin.wasm", limits={"fuel": 5_000_000}), ctx=ctx)
    assert time.monotonic() - started < 1 + MARGIN_S
    assert err.kind == "limit_fuel" and err.extra["error"] == "out_of_fuel" and err.status == 502
    assert err.extra["fuel_used"] == 5_000_000 == ctx.usage["operations"]
    assert "neira_run" in err.reason and err.extra["backtrace"][0].startswith("neira_run@0x")


def test_an_endless_loop_with_fuel_to_spare_stops_at_its_timeout(backend, modules):
    t = from_file(modules / "hostile" / "spin.wasm", limits={"fuel": ENOUGH_FUEL, "timeout_ms": 200})
    started = time.monotonic()
    err = failure(backend, t)
    elapsed = time.monotonic() - started
    assert err.kind == "timeout" and err.status == 504 and err.extra["error"] == "interrupt"
    assert 0.15 < elapsed < 0.2 + MARGIN_S, elapsed
    assert err.extra["limit_ms"] == 200


def test_the_deadline_of_the_call_wins_over_a_longer_timeout(backend, modules):
    t = from_file(modules / "hostile" / "spin.wasm", limits={"fuel": ENOUGH_FUEL, "timeout_ms": 10_000})
    started = time.monotonic()
    err = failure(backend, t, ctx=context(deadline=time.monotonic() + 0.15))
    elapsed = time.monotonic() - started
    assert err.kind == "timeout" and elapsed <= 0.15 + MARGIN_S, elapsed
    assert "its caller's deadline of 1" in err.reason and err.extra["limit_ms"] < 150
    gone = failure(backend, t, ctx=context(deadline=time.monotonic() - 1))
    assert gone.kind == "timeout" and "did not start" in gone.reason


def test_memory_growth_without_end_stops_at_the_cap(backend, modules):
    ctx = context()
    err = failure(backend, from_file(modules / "hostile" / "grow.wasm", limits={"memory_mb": 16}), ctx=ctx)
    assert err.kind == "limit_memory" and "memory cap of 16 MiB" in err.reason
    assert 8 * 2**20 < err.extra["memory_bytes"] <= 16 * 2**20 and ctx.usage["memory_bytes"] == err.extra["memory_bytes"]
    assert err.extra["backtrace"][0].startswith("abort@")


def test_a_module_needing_more_memory_than_the_cap_does_not_start(backend):
    t = from_wat('(module (memory (export "memory") 40) (func (export "neira_alloc") (param i32) (result i32) '
                 'i32.const 0) (func (export "neira_run") (param i32 i32) (result i64) i64.const 0))',
                 limits={"memory_mb": 1})
    assert risks(backend, t)["memory_limit"]["field"] == "limits.memory_mb"
    err = failure(backend, t)
    assert err.kind == "limit_memory" and err.extra["error"] == "memory_minimum"


def test_a_refusal_holds_for_its_cap_only(backend):
    """What a call works out once per module (imports, the abi, the memory split) is kept per cap: the module
    refused under 1 MiB still runs under 64 MiB, and the other way round."""
    wat = returning(b'{"ok":true}', pages=40)
    small, large = (from_wat(wat, limits={"memory_mb": mb}) for mb in (1, 64))
    for _ in range(2):
        assert failure(backend, small).extra["error"] == "memory_minimum"
        assert backend.run(large, {}, context()) == {"ok": True}


ECHO_TO_STDOUT = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "neira_alloc") (param i32) (result i32) (i32.const 4096))
  (func (export "neira_run") (param $ptr i32) (param $len i32) (result i64)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len)))))"""


def test_calls_on_several_threads_each_keep_their_own_stdout():
    """Six threads on a pool of four slots: calls in a slot and calls on demand, side by side."""
    backend, t = WasmBackend(Runtime(pool_slots=4), ArtifactReader()), from_wat(ECHO_TO_STDOUT)
    logs: dict[int, list[list[str]]] = {i: [] for i in range(6)}

    def calls(i: int) -> None:
        for n in range(25):
            ctx = context()
            assert backend.run(t, {"thread": i, "n": n}, ctx) == {"thread": i, "n": n}
            logs[i].append(ctx.log)

    threads = [threading.Thread(target=calls, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for i, seen in logs.items():
        assert seen == [[f'stdout: {{"thread":{i},"n":{n}}}'] for n in range(25)]


def test_deep_recursion_is_stopped_by_the_stack_limit(backend, modules):
    err = failure(backend, from_file(modules / "hostile" / "recurse.wasm"))
    assert err.kind == "limit" and err.extra["error"] == "stack_overflow"
    assert err.extra["limit_bytes"] == MAX_WASM_STACK and "deeper" in err.reason
    assert any("×" in frame for frame in err.extra["backtrace"])  # repeated frames folded


def test_a_trap_names_itself_with_the_wasm_backtrace(backend):
    t = from_wat("""(module (memory (export "memory") 1)
      (func $inner (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
      (func $middle (result i32) (call $inner))
      (func (export "neira_alloc") (param i32) (result i32) (i32.const 1024))
      (func $run (export "neira_run") (param i32 i32) (result i64) (drop (call $middle)) (i64.const 0)))""")
    err = failure(backend, t)
    assert err.kind == "trap" and err.extra["error"] == "integer_division_by_zero"
    assert [f.split("@")[0] for f in err.extra["backtrace"]] == ["inner", "middle", "run"]
    assert "integer divide by zero" in err.reason and "inner@0x" in err.reason


# -- the host stays out of reach --------------------------------------------------------------------------

def test_opening_a_file_fails_inside_the_module(backend, modules):
    t = from_file(modules / "hostile" / "read_file.wasm")
    assert risks(backend, t)["wasi_access"]["severity"] == "warning"
    ctx = context()
    err = failure(backend, t, ctx=ctx)
    assert err.kind == "trap" and err.extra["error"] == "unreachable" and "violation" not in err.extra
    assert "cannot open /etc/passwd: Capabilities insufficient" in err.extra["stderr"]
    assert "stderr: read_file: cannot open /etc/passwd: Capabilities insufficient" in ctx.log


def test_the_environment_is_empty(backend, modules, monkeypatch):
    monkeypatch.setenv("NEIRA_ADMIN_TOKEN", "a secret the module must not see")
    t = from_file(modules / "hostile" / "read_env.wasm", abi="wasi-command")
    assert "environ_get" in risks(backend, t)["wasi_access"]["message"]
    err = failure(backend, t)
    assert err.kind == "exception" and err.extra["exit_code"] == 3
    assert "the environment is empty (0 variables)" in err.reason


def test_an_import_beyond_wasi_is_refused_at_dry_run_and_at_run(backend, modules):
    t = from_file(modules / "hostile" / "forbidden.wasm")
    found = risks(backend, t)["forbidden_import"]
    assert found["severity"] == "blocking" and found["field"] == "wasm.module"
    assert "env.neira_host_exec" in found["message"]
    err = failure(backend, t)
    assert err.kind == "policy" and err.extra["violation"] is True and err.extra["error"] == "forbidden_import"


@pytest.mark.parametrize("wat, code", [
    ('(import "env" "memory" (memory 1))', "forbidden_import"),
    ('(import "wasi_snapshot_preview1" "no_such_call" (func))', "forbidden_import"),
    ('(import "wasi_snapshot_preview1" "fd_write" (func (param i32)))', "unresolved_import"),
])
def test_imports_that_cannot_be_linked_block(backend, wat, code):
    t = from_wat(f'(module {wat} (memory (export "memory") 1) (func (export "neira_alloc") (param i32) '
                 '(result i32) i32.const 0) (func (export "neira_run") (param i32 i32) (result i64) i64.const 0))')
    assert risks(backend, t)[code]["severity"] == "blocking"
    assert failure(backend, t).extra["error"] == code


# -- outputs and inputs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("wat, words", [
    (returning(b"\xff\xfe"), "not UTF-8"),
    (returning(b"hello"), "is not plain JSON"),
    (returning(b"NaN"), "is not plain JSON"),
    (returning(b"{}", at=65530, length=10), "beyond the memory"),
])
def test_an_output_that_is_not_utf8_json_in_memory_is_bad_output(backend, wat, words):
    err = failure(backend, from_wat(wat))
    assert err.kind == "bad_output" and words in err.reason


def test_a_command_that_writes_nothing_is_bad_output(backend):
    t = from_wat('(module (memory (export "memory") 1) (func (export "_start")))', abi="wasi-command")
    assert failure(backend, t).kind == "bad_output"


def test_a_command_exiting_zero_through_proc_exit_succeeds(backend):
    t = from_wat("""(module
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 0) "\\10\\00\\00\\00\\0b\\00\\00\\00")
      (data (i32.const 16) "{\\"ok\\":true}")
      (func (export "_start") (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        (call $exit (i32.const 0))))""", abi="wasi-command")
    assert backend.run(t, {}, context()) == {"ok": True}


def test_an_input_that_is_not_plain_json_is_bad_input(backend, modules):
    err = failure(backend, from_file(modules / "echo.wasm"), {"x": float("nan")})
    assert err.kind == "bad_input" and err.status == 422


def test_neira_alloc_giving_nothing_fails_the_call(backend):
    t = from_wat('(module (memory (export "memory") 1) (func (export "neira_alloc") (param i32) (result i32) '
                 'i32.const 0) (func (export "neira_run") (param i32 i32) (result i64) i64.const 0))')
    err = failure(backend, t, {"x": 1})
    assert err.kind == "exception" and "neira_alloc" in err.reason


# -- the ABI and the dry-run --------------------------------------------------------------------------------

def test_the_dry_run_lists_imports_and_exports(backend, modules):
    found = risks(backend, from_file(modules / "word_count.wasm", abi="wasi-command"))
    listing = found["wasm_module"]
    assert listing["severity"] == "info"
    assert "imports: wasi_snapshot_preview1.fd_read" in listing["message"] or "fd_read" in listing["message"]
    assert "_start (func () -> ())" in listing["message"] and "memory (memory" in listing["message"]
    described = WasmBackend().describe(from_file(modules / "echo.wasm"))
    assert {e["name"] for e in described["exports"]} >= {"memory", "neira_alloc", "neira_run", "_initialize"}


def test_a_module_for_the_other_abi_points_at_wasm_abi(backend, modules):
    found = risks(backend, from_file(modules / "word_count.wasm"))  # a command, declared neira-json-v1
    assert found["missing_export"]["field"] == "wasm.abi" and "set wasm.abi: wasi-command" in found["missing_export"]["message"]
    err = failure(backend, from_file(modules / "word_count.wasm"), {"text": "x"})
    assert err.kind == "exception" and err.extra["error"] == "missing_export"


def test_an_export_of_the_wrong_type_blocks(backend):
    t = from_wat('(module (memory (export "memory") 1) (func (export "neira_alloc") (param i32) (result i32) '
                 'i32.const 0) (func (export "neira_run") (param i32 i32) (result i32) i32.const 0))')
    assert "func (i32, i32) -> i64" in risks(backend, t)["export_type"]["message"]


def test_bytes_that_are_not_a_module_block(backend, tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0garbage")
    assert risks(backend, from_file(bad))["invalid_module"]["field"] == "wasm.module"
    text = tmp_path / "text.wasm"
    text.write_text("not wasm")
    assert "not a WebAssembly binary" in risks(backend, from_file(text))["module_unreadable"]["message"]
    assert risks(backend, from_file(tmp_path / "missing.wasm", pin=False))["module_unreadable"]["field"] == "wasm.module"


def test_a_module_file_must_be_pinned_and_an_inline_one_may_be(backend, modules):
    loose = risks(backend, from_file(modules / "echo.wasm", pin=False))["sha256_missing"]
    assert loose["severity"] == "blocking" and digest(modules / "echo.wasm") in loose["message"]
    assert failure(backend, from_file(modules / "echo.wasm", pin=False)).kind == "policy"
    inline = from_wat(COUNTER)
    assert risks(backend, inline)["sha256_missing"]["severity"] == "info"
    data_url = inline.model_copy(update={"wasm": inline.wasm.model_copy(
        update={"module": "data:application/wasm;base64," + inline.wasm.module})})
    assert backend.run(data_url, {}, context()) == {"calls": 1}


def test_a_changed_module_is_an_integrity_failure(backend, modules, tmp_path):
    module = tmp_path / "node.wasm"
    shutil.copy(modules / "echo.wasm", module)
    t = from_file(module)
    assert backend.run(t, {"a": 1}, context()) == {"a": 1}
    assert backend.verify(t).sha256 == t.wasm.sha256
    shutil.copy(modules / "hostile" / "spin.wasm", module)  # same path, other bytes
    with pytest.raises(IntegrityError):
        backend.verify(t)  # the hook for loads outside a call
    assert risks(backend, t)["sha256_mismatch"]["field"] == "wasm.sha256"
    err = failure(backend, t)
    assert isinstance(err, WasmIntegrityError) and isinstance(err, IntegrityError)
    assert err.status == 409 and err.code == "integrity_mismatch" and err.extra["violation"] is True
    assert err.extra["actual"] == digest(module)
    module.unlink()
    gone = failure(backend, t)
    assert isinstance(gone, IntegrityError) and "gone" in gone.reason
    unpinned = from_file(module, pin=False)
    assert backend.verify(unpinned) is None  # nothing to check against
    assert failure(backend, unpinned).extra["error"] == "module_unreadable"


def test_relative_paths_resolve_against_neira_wasm_path_which_fences_them(backend, modules, monkeypatch, tmp_path):
    monkeypatch.setenv("NEIRA_WASM_PATH", str(modules))
    t = from_file(Path("echo.wasm"), pin=False).model_copy()
    t = t.model_copy(update={"wasm": t.wasm.model_copy(update={"sha256": digest(modules / "echo.wasm")})})
    assert backend.run(t, {"ok": 1}, context()) == {"ok": 1}
    outside = tmp_path / "echo.wasm"
    shutil.copy(modules / "echo.wasm", outside)
    assert "outside NEIRA_WASM_PATH" in risks(backend, from_file(outside))["module_unreadable"]["message"]


# -- many at once ----------------------------------------------------------------------------------------

def test_a_runaway_module_does_not_hold_up_other_calls(backend, modules):
    spin = from_file(modules / "hostile" / "spin.wasm", limits={"fuel": ENOUGH_FUEL, "timeout_ms": 1000})
    echo = from_file(modules / "echo.wasm")
    errors: list[ExecutionError] = []

    def run_spin() -> None:
        try:
            backend.run(spin, {}, context())
        except ExecutionError as exc:
            errors.append(exc)

    spinners = [threading.Thread(target=run_spin) for _ in range(2)]
    for thread in spinners:
        thread.start()
    time.sleep(0.05)
    started = time.monotonic()
    for i in range(20):
        assert backend.run(echo, {"i": i}, context()) == {"i": i}
    assert time.monotonic() - started < 0.5, "echo calls waited for the spinning ones"
    for thread in spinners:
        thread.join(5)
    assert [e.kind for e in errors] == ["timeout", "timeout"]
