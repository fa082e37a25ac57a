"""The WASI calls the WASM backend answers itself instead of wasmtime: those whose work a module can make
long, in host code where no epoch deadline reaches (a sleep, a large buffer). Each returns at once or by
the call's deadline:

* `poll_oneoff`: never waits for a file descriptor (stdin is a buffer and stdout/stderr are captures,
  always ready; any other fd is EBADF); sleeps for a clock only when the sleep ends before the call's
  deadline; a sleep that would end after it stops the call at once (`Host.stop`: the backend reports a
  timeout). At most MAX_SUBSCRIPTIONS subscriptions (EINVAL beyond).
* `fd_write`: stdout and stderr straight into the call's captures, copying at most what they still keep
  (the rest counted as dropped), at most MAX_IOVECS buffers per call (EINVAL beyond); any other fd EBADF.
* `random_get`: at most MAX_RANDOM_BYTES per call (EINVAL beyond).

Every other WASI preview 1 call stays wasmtime's: with no preopened directory, no socket, an empty
environment and stdin in memory, each of them returns at once. The host functions find their call's
`Host` (deadline, captures) through a thread-local that `with host:` sets while the module runs.
"""
from __future__ import annotations

import ctypes
import os
import struct
import threading
import time

import wasmtime
from wasmtime import _ffi as ffi

MAX_SUBSCRIPTIONS = 1024
MAX_IOVECS = 1024  # wasi-libc's IOV_MAX
MAX_RANDOM_BYTES = 2**20
U32 = 0xFFFFFFFF
SUBSCRIPTION, EVENT = struct.Struct("<QB7xI4xQQH6x"), struct.Struct("<QHB5xQH6x")  # 48 and 32 bytes
CLOCK, FD_READ, FD_WRITE = 0, 1, 2  # subscription / event types
ABSTIME = 1  # a clock subscription's flag: `timeout` is a time on that clock, not a duration
CLOCKS = {0: time.time_ns, 1: time.monotonic_ns}  # realtime, monotonic (the cpu-time clocks: EINVAL)
SUCCESS, EBADF, EFAULT, EINVAL = 0, 8, 21, 28


class Capture:
    """A stream the module writes (stdout, stderr): kept up to `cap` bytes, the rest counted."""

    def __init__(self, cap: int):
        self.cap = cap
        self.data = bytearray()
        self.dropped = 0

    @property
    def room(self) -> int:
        return max(0, self.cap - len(self.data))

    def __call__(self, chunk: bytes) -> int:
        room = self.room
        self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - room)
        return len(chunk)


_local = threading.local()  # .host: the Host of the call running on this thread


class Host:
    """What the host functions need of one call: its deadline (time.monotonic()), its captures, and
    whether they stopped it (`stopped`: what the module asked for; `fuel_left`: its fuel then).
    `with host:` the host functions called on this thread meanwhile belong to it."""

    def __init__(self, stdout: Capture, stderr: Capture, deadline: float = 0.0):
        self.stdout, self.stderr, self.deadline = stdout, stderr, deadline
        self.stopped: str | None = None
        self.fuel_left: int | None = None

    def __enter__(self) -> Host:
        _local.host = self  # a thread runs one module at a time: a module calls no other node
        return self

    def __exit__(self, *exc: object) -> None:
        _local.host = None

    def stop(self, caller: wasmtime.Caller, what: str) -> None:
        """Stops the module as soon as it runs on: its fuel goes to 0, which wasmtime reloads after a host
        call, so its next fuel check traps (the epoch deadline is cached and would wait for its time)."""
        left = ctypes.c_uint64(0)
        ffi.wasmtime_context_get_fuel(caller._context(), ctypes.byref(left))
        ffi.wasmtime_context_set_fuel(caller._context(), 0)
        self.stopped, self.fuel_left = what, left.value


IDLE = Host(Capture(0), Capture(0))  # outside a call: no time to sleep, nothing kept


def current() -> Host:
    return getattr(_local, "host", None) or IDLE


def _memory(caller: wasmtime.Caller, *regions: tuple[int, int]) -> wasmtime.Memory | None:
    """The caller's `memory` when every (pointer, length) region lies inside it."""
    memory = caller.get("memory")
    if not isinstance(memory, wasmtime.Memory):
        return None
    size = memory.data_len(caller)
    return memory if all(ptr + length <= size for ptr, length in regions) else None


def poll_oneoff(caller: wasmtime.Caller, subscriptions: int, events: int, count: int, written: int) -> int:
    subscriptions, events, count, written = subscriptions & U32, events & U32, count & U32, written & U32
    if not 0 < count <= MAX_SUBSCRIPTIONS:
        return EINVAL
    memory = _memory(caller, (subscriptions, count * SUBSCRIPTION.size), (events, count * EVENT.size), (written, 4))
    if memory is None:
        return EFAULT
    raw = memory.read(caller, subscriptions, subscriptions + count * SUBSCRIPTION.size)
    ready, clocks = [], []  # events; (ns to wait, userdata)
    for userdata, tag, fd_or_clock, timeout, _, flags in SUBSCRIPTION.iter_unpack(raw):
        if tag == CLOCK and fd_or_clock in CLOCKS:
            clocks.append((timeout - CLOCKS[fd_or_clock]() if flags & ABSTIME else timeout, userdata))
        elif tag == CLOCK:
            ready.append(EVENT.pack(userdata, EINVAL, tag, 0, 0))
        elif tag in (FD_READ, FD_WRITE):
            usable = fd_or_clock == 0 if tag == FD_READ else fd_or_clock in (1, 2)
            ready.append(EVENT.pack(userdata, SUCCESS if usable else EBADF, tag, 0, 0))
        else:
            return EINVAL
    wait = 0 if ready or not clocks else max(0, min(ns for ns, _ in clocks))
    if wait:
        host = current()
        if time.monotonic() + wait / 1e9 > host.deadline:
            host.stop(caller, f"a sleep of {wait / 1e6:.0f} ms (poll_oneoff)")
            return EINVAL
        time.sleep(wait / 1e9)
    ready += [EVENT.pack(userdata, SUCCESS, CLOCK, 0, 0) for ns, userdata in clocks if ns <= wait]
    memory.write(caller, b"".join(ready), events)
    memory.write(caller, struct.pack("<I", len(ready)), written)
    return SUCCESS


def fd_write(caller: wasmtime.Caller, fd: int, iovs: int, count: int, written: int) -> int:
    host = current()
    stream = {1: host.stdout, 2: host.stderr}.get(fd)
    iovs, count, written = iovs & U32, count & U32, written & U32
    if stream is None:
        return EBADF
    if count > MAX_IOVECS:
        return EINVAL
    memory = _memory(caller, (iovs, 8 * count), (written, 4))
    if memory is None:
        return EFAULT
    buffers = list(struct.iter_unpack("<II", memory.read(caller, iovs, iovs + 8 * count)))
    total = sum(length for _, length in buffers)
    if total > U32:
        return EINVAL
    if _memory(caller, *buffers) is None:
        return EFAULT
    for ptr, length in buffers:
        keep = min(length, stream.room)
        if keep:
            stream(memory.read(caller, ptr, ptr + keep))
        stream.dropped += length - keep
    memory.write(caller, struct.pack("<I", total), written)
    return SUCCESS


def random_get(caller: wasmtime.Caller, buf: int, length: int) -> int:
    buf, length = buf & U32, length & U32
    if length > MAX_RANDOM_BYTES:
        return EINVAL
    memory = _memory(caller, (buf, length))
    if memory is None:
        return EFAULT
    if length:
        memory.write(caller, os.urandom(length), buf)
    return SUCCESS


OVERRIDES = {"poll_oneoff": (poll_oneoff, 4), "fd_write": (fd_write, 4), "random_get": (random_get, 2)}


def define(linker: wasmtime.Linker, module: str) -> None:
    """Puts the overrides in place of the linker's WASI functions of the same names (after define_wasi)."""
    i32 = wasmtime.ValType.i32()
    linker.allow_shadowing = True
    for name, (func, arity) in OVERRIDES.items():
        linker.define_func(module, name, wasmtime.FuncType([i32] * arity, [i32]), func, access_caller=True)
    linker.allow_shadowing = False
