"""Reading a wasmtime trap for an error body: its wasm backtrace (innermost first, repeats folded, the first
frames only, read through wasmtime's C API so a stack overflow's thousands of frames cost nothing), its own
message without wasmtime's backtrace block, and its trap code."""
from __future__ import annotations

import ctypes

import wasmtime
from wasmtime import _ffi as ffi

MAX_FRAMES = 16  # distinct backtrace entries kept (repeats folded)


def backtrace(trap: BaseException) -> tuple[list[str], int]:
    """The trap's wasm frames, innermost first, as `name@0xoffset` with repeats folded (`name@0x… ×N`),
    at most MAX_FRAMES entries; and the number of frames in all."""
    if not isinstance(trap, wasmtime.Trap):
        return [], 0
    try:
        from wasmtime._trap import Frame, FrameList  # read the first frames only: a stack overflow has thousands
        frames = FrameList(trap)
        ffi.wasm_trap_trace(trap.ptr(), ctypes.byref(frames.vec))
        total = frames.vec.size
        limit = min(total, 4096)
        entries: list[str] = []
        for i in range(limit):
            frame = Frame._from_ptr(frames.vec.data[i], frames)
            offset = frame.module_offset
            name = frame.func_name or f"func[{frame.func_index}]"
            entries.append(name if offset >= 2**63 else f"{name}@{offset:#x}")
        del frames
    except Exception:  # an older wasmtime-py: the public (slower) way
        entries = [f"{f.func_name or f'func[{f.func_index}]'}@{f.module_offset:#x}" for f in trap.frames]
        total = len(entries)
    folded: list[list] = []
    for entry in entries:
        if folded and folded[-1][0] == entry:
            folded[-1][1] += 1
        else:
            folded.append([entry, 1])
    shown = [e if n == 1 else f"{e} ×{n}" for e, n in folded[:MAX_FRAMES]]
    hidden = total - sum(n for _, n in folded[:MAX_FRAMES])
    if hidden > 0:
        shown.append(f"… {hidden} more frames")
    return shown, total


def trap_message(exc: BaseException) -> str:
    """The trap's own words (`wasm trap: …`), without wasmtime's backtrace block."""
    text = str(exc).strip()
    if "Caused by:" in text:
        text = text.split("Caused by:", 1)[1].strip()
    return " ".join(line.strip() for line in text.splitlines() if line.strip())[:500]


def trap_code(exc: BaseException) -> str | None:
    code = getattr(exc, "trap_code", None) if isinstance(exc, wasmtime.Trap) else None
    return code.name.lower() if code is not None else None
