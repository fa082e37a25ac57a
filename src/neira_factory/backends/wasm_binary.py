"""What the WASM backend reads from a module's bytes itself, before wasmtime compiles them: how many
memories the module defines, its tables, and a copy of the bytes that also exports the tables that can
grow, under hidden names (`HIDDEN_TABLE`), so that a call can measure them (wasmtime shows a module's
exports only).

Only the section headers and the table section are decoded (the binary format's LEB128 integers and
section order); wasmtime validates everything else. Bytes this cannot read raise BinaryError.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

HIDDEN_TABLE = "\0neira.table."  # + the table's index: an export name no toolchain makes
CORE_VERSION = b"\x01\x00\x00\x00"
CUSTOM, TABLE_SECTION, MEMORY_SECTION, EXPORT_SECTION = 0, 4, 5, 7
EXPORT_TABLE = 0x01  # an export's kind byte for a table
# the order non-custom sections must come in (type, import, function, table, memory, tag, global,
# export, start, element, data count, code, data)
SECTION_ORDER = {sid: rank for rank, sid in enumerate((1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11))}
REFERENCE_TYPES = (0x70, 0x6F)  # funcref, externref (typed references are off in the engine)
TABLE_LIMIT_FLAGS = (0x00, 0x01, 0x04, 0x05)  # bit 0: a maximum follows; bit 2: table64


class BinaryError(ValueError):
    """The bytes are not a module this reader understands (wasmtime says why in detail)."""


@dataclass(frozen=True)
class Table:
    minimum: int  # elements
    maximum: int | None

    @property
    def growable(self) -> bool:
        return self.maximum is None or self.maximum > self.minimum


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    """An unsigned LEB128 integer at `pos`: (its value, the position after it)."""
    value = shift = 0
    while True:
        if pos >= len(data):
            raise BinaryError("truncated integer")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise BinaryError("integer longer than 64 bits")


def _leb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def sections(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """Each section as (id, where its header starts, where its payload starts, where it ends)."""
    if data[4:8] != CORE_VERSION:
        raise BinaryError("not a core WebAssembly module (version 1)")
    pos = 8  # b"\0asm" and the version
    while pos < len(data):
        size, start = _uleb(data, pos + 1)
        end = start + size
        if end > len(data):
            raise BinaryError("a section runs past the end of the module")
        yield data[pos], pos, start, end
        pos = end


def _vector(data: bytes, section: int) -> tuple[int, int]:
    """The length of a vector section's vector and where its first entry starts; (0, 0) without it."""
    for sid, _, start, _ in sections(data):
        if sid == section:
            return _uleb(data, start)
    return 0, 0


def memories(data: bytes) -> int:
    """How many memories the module defines (its memory section)."""
    return _vector(data, MEMORY_SECTION)[0]


def tables(data: bytes) -> tuple[Table, ...]:
    """The tables the module defines (its table section), in index order."""
    count, pos = _vector(data, TABLE_SECTION)
    found = []
    for _ in range(count):
        if pos + 1 >= len(data) or data[pos] not in REFERENCE_TYPES or data[pos + 1] not in TABLE_LIMIT_FLAGS:
            raise BinaryError("a table type this reader does not know")
        flags = data[pos + 1]
        minimum, pos = _uleb(data, pos + 2)
        maximum = None
        if flags & 1:
            maximum, pos = _uleb(data, pos)
        found.append(Table(minimum, maximum))
    return tuple(found)


def export_tables(data: bytes, indices: tuple[int, ...]) -> bytes:
    """The module with `HIDDEN_TABLE + index` exports added for these tables (its export section
    extended, or one inserted where the section order puts it)."""
    if not indices:
        return data
    entries = b"".join(_leb(len(name)) + name + bytes([EXPORT_TABLE]) + _leb(i)
                       for i in indices for name in [f"{HIDDEN_TABLE}{i}".encode()])

    def section(payload: bytes) -> bytes:
        return bytes([EXPORT_SECTION]) + _leb(len(payload)) + payload

    out, placed = bytearray(data[:8]), False
    for sid, head, start, end in sections(data):
        if sid == EXPORT_SECTION:
            count, first = _uleb(data, start)
            out += section(_leb(count + len(indices)) + data[first:end] + entries)
            placed = True
            continue
        if not placed and sid != CUSTOM and SECTION_ORDER.get(sid, 99) > SECTION_ORDER[EXPORT_SECTION]:
            out += section(_leb(len(indices)) + entries)
            placed = True
        out += data[head:end]
    if not placed:
        out += section(_leb(len(indices)) + entries)
    return bytes(out)
