"""Data-size limits (``max_array_size``, ``max_map_size``, ``max_string_size``) of one run.

A container is measured as Rhai measures it: its array elements and map entries
at every depth, and the longest string anywhere inside it.  Measuring a large
container again after each insert would make a loop of n inserts O(n²), so
``Sizes`` remembers the measures of the few large containers checked last
("roots"), with the id of every container nested in each (and how many times it
occurs there; the nested containers are kept alive so that their ids stay
theirs).  Every in-place store into a list or dict is reported (``stored``: what
the container now holds that it did not, and what it lost); the measures of
that container and of each root holding it move by that much.

Remembered measures are upper bounds: a removal that is not reported (``pop``,
``clear``, ...) or an overwritten value inside a root leaves them larger than
the truth, never smaller.  A check passes on the bound when the bound is within
the limits and otherwise measures exactly before raising, so it raises exactly
when measuring from scratch would.  This holds only if *every* in-place store
that can grow a container is reported; the setters (``access``), ``+=``
(``ops``) and the array and map packages do so.
"""

from __future__ import annotations

from ..errors import ErrorDataTooLarge
from .values import Char

MEASURED = frozenset({list, dict, str})
MIN_REMEMBERED = 64  # array elements + map entries; smaller containers are measured each time
MAX_ROOTS = 16


def measure(v):
    """Exact (array elements, map entries, longest string, {id: occurrences}, nested
    containers) of the list or dict ``v``, counted through every level."""
    arrays = maps = strings = 0
    nested: dict[int, int] = {}
    found = []
    stack = [v]
    while stack:
        x = stack.pop()
        if type(x) is list:
            arrays += len(x)
            items = x
        else:
            maps += len(x)
            items = x.values()
        for y in items:
            t = type(y)
            if t is list or t is dict:
                k = id(y)
                nested[k] = nested.get(k, 0) + 1
                found.append(y)
                stack.append(y)
            elif t is str and len(y) > strings:
                strings = len(y)
    return arrays, maps, strings, nested, found


class Root:
    """A remembered container: upper bounds of its measure and of how often each
    nested container occurs in it; ``keep`` holds every container counted in ``nested``."""

    __slots__ = ("arrays", "keep", "maps", "nested", "obj", "strings")

    def __init__(self, obj, arrays, maps, strings, nested, keep):
        self.obj, self.arrays, self.maps, self.strings = obj, arrays, maps, strings
        self.nested, self.keep = nested, keep

    def add(self, times, arrays, maps, strings, nested, found):
        """Grow by a measure (and its nested containers, if any) ``times`` over."""
        self.arrays += times * arrays
        self.maps += times * maps
        self.strings = max(self.strings, strings)
        if nested:
            own = self.nested
            for k, n in nested.items():
                own[k] = own.get(k, 0) + times * n
            self.keep.extend(found)


class Sizes:
    """Checks values against the data-size limits, remembering large containers."""

    __slots__ = ("max_array", "max_map", "max_string", "roots")

    def __init__(self, limits):
        self.max_string = limits.max_string_size
        self.max_array = limits.max_array_size
        self.max_map = limits.max_map_size
        self.roots: dict[int, Root] = {}  # by id, least recently used first

    def over(self, arrays, maps, strings):
        """The error message for the first limit these measures exceed, or None."""
        if self.max_array and arrays > self.max_array:
            return "size of array too large"
        if self.max_map and maps > self.max_map:
            return "size of object map too large"
        if self.max_string and strings > self.max_string:
            return "length of string too large"
        return None

    def check(self, v):
        """Raise ErrorDataTooLarge if ``v`` exceeds a limit; return ``v``."""
        t = type(v)
        if t is str or t is Char:
            if self.max_string and len(v) > self.max_string:
                raise ErrorDataTooLarge("length of string too large")
        elif t is list or t is dict:
            r = self.roots.pop(id(v), None)
            if r is not None and not self.over(r.arrays, r.maps, r.strings):
                self.roots[id(v)] = r
            else:
                self.remeasure(v)
        elif t is bytearray and self.max_array and len(v) > self.max_array:
            raise ErrorDataTooLarge("size of BLOB too large")
        return v

    def remeasure(self, v):
        """Measure ``v`` exactly, raise if it is over a limit, remember it if it is large."""
        arrays, maps, strings, nested, found = measure(v)
        msg = self.over(arrays, maps, strings)
        if msg:
            raise ErrorDataTooLarge(msg)
        if arrays + maps >= MIN_REMEMBERED:
            self.roots[id(v)] = Root(v, arrays, maps, strings, nested, found)
            if len(self.roots) > MAX_ROOTS:
                del self.roots[next(iter(self.roots))]

    def stored(self, target, added, removed=()):
        """``target`` (a list or dict) changed in place: it now holds the values ``added``
        (as stored, i.e. the copies) and no longer holds ``removed``."""
        for x in (*added, *removed):
            if type(x) in MEASURED:
                break
        else:  # only scalars: ``target`` just has more (or fewer) slots
            n, key, in_list = len(added) - len(removed), id(target), type(target) is list
            for r in self.roots.values():
                times = 1 if r.obj is target else r.nested.get(key) if n > 0 else None
                if times:
                    if in_list:
                        r.arrays += times * n
                    else:
                        r.maps += times * n
            return
        arrays = maps = strings = 0
        nested = found = None
        for x in added:
            t = type(x)
            if t is list or t is dict:
                a, m, s, ids, inside = measure(x)
                arrays, maps, strings = arrays + a, maps + m, max(strings, s)
                ids[id(x)] = ids.get(id(x), 0) + 1
                if nested is None:
                    nested, found = ids, [x, *inside]
                else:
                    for k, c in ids.items():
                        nested[k] = nested.get(k, 0) + c
                    found.append(x)
                    found.extend(inside)
            elif t is str and len(x) > strings:
                strings = len(x)
        slots = len(added) - len(removed)
        in_list = type(target) is list
        key = id(target)
        roots = self.roots
        own = roots.get(key)
        if own is None or len(roots) > 1:
            # Roots holding ``target`` grow by what was added (``times`` over); they do not
            # shrink by what was removed, as ``times`` may count occurrences no longer there.
            grow_a = arrays + (max(slots, 0) if in_list else 0)
            grow_m = maps + (0 if in_list else max(slots, 0))
            for r in [*roots.values()]:
                times = r.nested.get(key)
                if times:
                    r.add(times, grow_a, grow_m, strings, nested, found)
                    if nested:
                        self.trim(r)
        if own is not None:
            if removed:
                gone_a, gone_m = self.gone(removed)
                arrays, maps = arrays - gone_a, maps - gone_m
            if in_list:
                arrays += slots
            else:
                maps += slots
            own.add(1, arrays, maps, strings, nested, found)
            if nested:
                self.trim(own)

    def trim(self, r):
        """Forget a root whose ``keep`` has grown well past its size (many overwritten
        containers): measuring it again later is cheaper than keeping them."""
        if len(r.keep) > 2 * (r.arrays + r.maps) + MIN_REMEMBERED:
            del self.roots[id(r.obj)]

    @staticmethod
    def gone(removed):
        """(array elements, map entries) inside the ``removed`` values (not their slots)."""
        arrays = maps = 0
        for x in removed:
            if type(x) is list or type(x) is dict:
                a, m, _, _, _ = measure(x)
                arrays += a
                maps += m
        return arrays, maps
