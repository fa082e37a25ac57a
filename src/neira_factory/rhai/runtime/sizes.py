"""Data-size limits (``max_array_size``, ``max_map_size``, ``max_string_size``) of one run.

A value is measured as Rhai measures it: the array elements and map entries it
holds at every depth, and the characters of all the strings inside it added up
(a string held twice counts twice: that is what it costs to copy or serialise).
A BLOB counts its bytes as array elements (as in Rhai).
Beyond Rhai, map keys count as characters too, and a function pointer holds its
curried arguments and, for a closure, the values it captured.  Measuring a large container again after each insert would
make a loop of n inserts O(n²), so ``Sizes`` remembers the measures of the few
large containers checked last ("roots"), with the id of every container nested
in each (and how many times it occurs there; the nested containers are kept
alive so that their ids stay theirs).  Every in-place store into a list or dict
is reported (``stored``: what the container now holds that it did not, and what
it lost); the measures of that container and of each root holding it move by
that much.

Remembered measures are upper bounds: a removal that is not reported (``pop``,
``clear``, ...) or an overwritten value inside a root leaves them larger than
the truth, never smaller.  A check passes on the bound when the bound is within
the limits and otherwise measures exactly before raising, so it raises exactly
when measuring from scratch would.  This holds only if *every* in-place store
that can grow a container is reported; the setters (``access``), ``+=``
(``ops``) and the array and map packages do so.  A store into a container nested
inside another one grows the outer one too: compiled code checks the variable at
the root of every access chain it changed (``a[i].push(x)`` checks ``a``).
"""

from __future__ import annotations

from ..errors import ErrorDataTooLarge
from .values import Char, FnPtr

MEASURED = frozenset({list, dict, str, FnPtr, bytearray})
HOLDERS = frozenset({list, dict, FnPtr, bytearray})
MIN_REMEMBERED = 64  # array elements + map entries; smaller containers are measured each time
MAX_ROOTS = 16
LONG = 1 << 20  # a string this long took long enough to build to look at the clock
CLOCK_EVERY = 1 << 16  # elements and entries measured between two looks at the clock


def captured(fn):
    """The values a closure captured (its Python cells holding arrays, maps, strings or
    function pointers): the closure holds them as long as it lives."""
    out = []
    for cell in fn.__closure__ or ():
        try:
            x = cell.cell_contents
        except ValueError:  # a variable declared but not yet set
            continue
        if type(x) in MEASURED:
            out.append(x)
    return out


def measure(v, clock=None):
    """Exact (array elements, map entries, characters, {id: occurrences}, nested
    containers) of the list or dict ``v``, counted through every level, the values that
    closures inside it captured included (as they are now: one that a later call of the
    closure grows is not counted again until the container is measured afresh).  ``clock``
    (the run's deadline check) is called as the count grows."""
    arrays = maps = strings = 0
    nested: dict[int, int] = {}
    found = []
    seen: set[int] = set()  # closures measured (one may capture itself)
    stack = [v]
    due = CLOCK_EVERY
    while stack:
        if clock is not None and arrays + maps > due:
            clock()
            due = arrays + maps + CLOCK_EVERY
        x = stack.pop()
        if type(x) is list:
            arrays += len(x)
            items = x
        else:
            maps += len(x)
            strings += sum(map(len, x))
            items = x.values()
        kinds = set(map(type, items))
        if kinds.isdisjoint(HOLDERS):  # no containers inside: count the strings at C speed if all are strings
            if str in kinds:
                strings += sum(map(len, items)) if len(kinds) == 1 else sum(len(y) for y in items if type(y) is str)
            continue
        for y in items:
            t = type(y)
            if t is list or t is dict:
                k = id(y)
                nested[k] = nested.get(k, 0) + 1
                found.append(y)
                stack.append(y)
            elif t is str:
                strings += len(y)
            elif t is bytearray:  # grows in place like a list: tracked in ``nested``
                arrays += len(y)
                nested[id(y)] = nested.get(id(y), 0) + 1
                found.append(y)
            elif t is FnPtr:
                if y.curry:
                    stack.append(y.curry)  # never changed in place: not tracked in ``nested``
                if y.fn is not None and y.fn.__closure__ and id(y.fn) not in seen:
                    seen.add(id(y.fn))
                    stack.append(captured(y.fn))
    return arrays, maps, strings, nested, found


def measure_any(v, clock=None):
    """(array elements, map entries, characters) of any value."""
    t = type(v)
    if t is list or t is dict:
        return measure(v, clock)[:3]
    if t is str:
        return 0, 0, len(v)
    if t is bytearray:
        return len(v), 0, 0
    if t is FnPtr:
        arrays, maps, strings = measure([v], clock)[:3]
        return arrays - 1, maps, strings
    return 0, 0, 0


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
        self.strings += times * strings
        if nested:
            own = self.nested
            for k, n in nested.items():
                own[k] = own.get(k, 0) + times * n
            self.keep.extend(found)


class Sizes:
    """Checks values against the data-size limits, remembering large containers."""

    __slots__ = ("clock", "long", "max_array", "max_map", "max_string", "roots")

    def __init__(self, limits, clock):
        self.max_string = limits.max_string_size
        self.max_array = limits.max_array_size
        self.max_map = limits.max_map_size
        self.long = min(self.max_string or LONG, LONG)
        self.clock = clock  # the run's deadline check, read after measuring something long
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
            if len(v) >= self.long:
                self.long_string(v)
        elif t is list or t is dict:
            r = self.roots.pop(id(v), None)
            if r is not None and not self.over(r.arrays, r.maps, r.strings):
                self.roots[id(v)] = r
            else:
                self.remeasure(v)
        elif t is FnPtr:
            self.raise_over(*measure_any(v, self.clock))
        elif t is bytearray and self.max_array and len(v) > self.max_array:
            raise ErrorDataTooLarge("size of BLOB too large")
        return v

    def long_string(self, s):
        """A string at least ``long`` characters long: refuse it past ``max_string``, else
        look at the clock (a C-speed step as long as building it can take a while)."""
        if self.max_string and len(s) > self.max_string:
            raise ErrorDataTooLarge("length of string too large")
        self.clock()

    def raise_over(self, arrays, maps, strings):
        msg = self.over(arrays, maps, strings)
        if msg:
            raise ErrorDataTooLarge(msg)

    def remeasure(self, v):
        """Measure ``v`` exactly, raise if it is over a limit, remember it if it is large."""
        arrays, maps, strings, nested, found = measure(v, self.clock)
        self.raise_over(arrays, maps, strings)
        if arrays + maps >= MIN_REMEMBERED:
            self.roots[id(v)] = Root(v, arrays, maps, strings, nested, found)
            if len(self.roots) > MAX_ROOTS:
                del self.roots[next(iter(self.roots))]

    def stored(self, target, added, removed=(), chars=0):
        """``target`` (a list or dict) changed in place: it now holds the values ``added``
        (as stored, i.e. the copies) and no longer holds ``removed``; ``chars``: characters
        of the keys it gained."""
        if not chars and MEASURED.isdisjoint(map(type, added)) and MEASURED.isdisjoint(map(type, removed)):
            self.slots(target, len(added) - len(removed))  # only scalars: more (or fewer) slots
            return
        arrays = maps = 0
        strings = chars
        nested = found = None
        for x in added:
            t = type(x)
            if t is list or t is dict or t is bytearray:  # a BLOB: its bytes, tracked in ``nested``
                a, m, s, ids, inside = (len(x), 0, 0, {}, ()) if t is bytearray else measure(x, self.clock)
                arrays, maps, strings = arrays + a, maps + m, strings + s
                ids[id(x)] = ids.get(id(x), 0) + 1
                if nested is None:
                    nested, found = ids, [x, *inside]
                else:
                    for k, c in ids.items():
                        nested[k] = nested.get(k, 0) + c
                    found.append(x)
                    found.extend(inside)
            elif t is str:
                strings += len(x)
            elif t is FnPtr:
                a, m, s = measure_any(x, self.clock)
                arrays, maps, strings = arrays + a, maps + m, strings + s
        slots = len(added) - len(removed)
        in_list = type(target) is not dict  # a list or a BLOB
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
                gone_a, gone_m, gone_s = self.gone(removed, self.clock)
                arrays, maps, strings = arrays - gone_a, maps - gone_m, strings - gone_s
            if in_list:
                arrays += slots
            else:
                maps += slots
            own.add(1, arrays, maps, strings, nested, found)
            if nested:
                self.trim(own)

    def slots(self, target, n):
        """``target`` gained (or lost) ``n`` scalar slots."""
        key, in_list = id(target), type(target) is not dict
        for r in self.roots.values():
            times = 1 if r.obj is target else r.nested.get(key) if n > 0 else None
            if times:
                if in_list:
                    r.arrays += times * n
                else:
                    r.maps += times * n

    def trim(self, r):
        """Forget a root whose ``keep`` has grown well past its size (many overwritten
        containers): measuring it again later is cheaper than keeping them."""
        if len(r.keep) > 2 * (r.arrays + r.maps) + MIN_REMEMBERED:
            del self.roots[id(r.obj)]

    @staticmethod
    def gone(removed, clock):
        """(array elements, map entries, characters) inside the ``removed`` values (not their slots)."""
        arrays = maps = strings = 0
        for x in removed:
            a, m, s = measure_any(x, clock)
            arrays, maps, strings = arrays + a, maps + m, strings + s
        return arrays, maps, strings
