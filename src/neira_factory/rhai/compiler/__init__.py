"""Compiler: Rhai syntax tree → Python source → Python code object.

Each Rhai function (and the main script, and each closure) becomes one Python
function.  Rhai variables become Python locals with unique names (closures
capture them through Python cells, which gives Rhai's shared-capture
semantics).  Expressions compile to Python expressions; statement-like
expressions (``if``, ``switch``, loops, blocks) are lowered to statements that
leave their value in a temporary.  Literal strings and other constants live in
a constants table (``_kN`` globals), never inside the generated source.

Statically inferred types (see ``scopes``) let integer arithmetic and
comparisons compile to plain Python operators plus an i64 range check; where
they are not known, type tests guard the same fast paths (``fast``: array
elements and map entries read and stored in place, ``+=``, interpolation).
Operation counting (for ``max_operations`` and the timeout) adds the number of
syntax nodes evaluated in each straight-line stretch to a local counter, checked
against the limit at loop back-edges, calls and returns only; a function with no
loop and no call counts straight into the run's counter.  A direct call passes
the arrays and maps a script function only reads without copying them
(``borrow``).
What the registry of native functions says of a name (whether it mutates a
string ``this``, whether it may run script code) shapes the code of its calls.

Compiling takes time linear in the syntax tree (a few passes over it); with a
``meter`` (an ``eval`` text) every ``METER_EVERY`` nodes compiled, and the lines
generated, are charged to it.

``script`` compiles whole scripts; ``function`` one Python function, made of the
``statements``, ``control`` (statement-like expressions), ``expressions``,
``calls`` and ``fast`` mixins; ``emitter`` buffers the Python source.
"""

from .script import Compiled, compile_script

__all__ = ["Compiled", "compile_script"]
