"""Python source buffer used by the compiler: indented lines, each tagged with
the Rhai source position it came from (to report error positions), plus a
constants table so script strings never appear inside generated source."""

from __future__ import annotations


class Constants:
    """Module-level constants of one compiled script, referenced as ``_kN``."""

    def __init__(self):
        self.values: dict[str, object] = {}
        self._ids: dict = {}

    def ref(self, value) -> str:
        t = type(value)
        if t is bool or value is None:
            return repr(value)
        if t is int:
            return f"({value})" if value < 0 else repr(value)
        if t is float and value == value and value not in (float("inf"), float("-inf")):
            return f"({value!r})" if value < 0 or repr(value).startswith("-") else repr(value)
        key = (t, value) if t in (str, float) else None
        if key is not None and key in self._ids:
            return self._ids[key]
        name = f"_k{len(self.values)}"
        self.values[name] = value
        if key is not None:
            self._ids[key] = name
        return name


class Lines:
    """An indented list of Python source lines with their Rhai positions."""

    def __init__(self):
        self.items: list[tuple[int, str, tuple]] = []
        self.level = 0
        self.pos = (0, 0)

    def emit(self, text: str):
        self.items.append((self.level, text, self.pos))

    def extend(self, other: "Lines"):
        for level, text, pos in other.items:
            self.items.append((self.level + level, text, pos))

    def render(self, base_line: int = 1) -> tuple[str, list]:
        """Source text and, per generated line, the Rhai (line, col)."""
        out, posmap = [], []
        for level, text, pos in self.items:
            out.append("    " * level + text)
            posmap.append(pos)
        return "\n".join(out) + "\n", posmap


class Indent:
    """Context manager: one level deeper; emits ``pass`` for an empty block."""

    def __init__(self, lines: Lines):
        self.lines = lines

    def __enter__(self):
        self.start = len(self.lines.items)
        self.lines.level += 1

    def __exit__(self, *exc):
        if len(self.lines.items) == self.start:
            self.lines.emit("pass")
        self.lines.level -= 1
