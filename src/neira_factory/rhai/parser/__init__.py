"""Recursive-descent parser: Rhai tokens → ``ast`` nodes.

Enforces the parse-time limits Rhai defines: expression nesting depth
(``ExprTooDeep``) and literal sizes (``LiteralTooLarge``), plus the script size
(``ScriptTooLarge``: at most ``max_tokens`` tokens, counted by the lexer).  Parsing
takes time linear in the tokens; with a ``meter`` (an ``eval`` text), every
``METER_EVERY`` tokens consumed are charged to it.

``script`` holds ``parse`` and the ``Parser``, made of the token ``cursor`` and the
``statements``, ``control`` (statement-like expressions) and ``expressions`` parts.
"""

from .script import parse

__all__ = ["parse"]
