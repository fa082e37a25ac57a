"""Rhai error types: one ``RhaiError`` subclass per Rhai ``EvalAltResult`` variant.

Every error carries ``kind`` (the Rhai variant name), ``line``/``column`` (1-based,
0 when unknown), a ``message`` (cut at ``MAX_MESSAGE`` characters) and, for ``throw``,
the thrown ``value``.  Parse errors carry the
parse-error variant (e.g. ``ExprTooDeep``) as ``inner``.
"""

from __future__ import annotations

MAX_MESSAGE = 1000  # characters of a message kept (one may quote a script's text or values)


class RhaiError(Exception):
    """Base class of every error raised by the Rhai engine."""

    kind = "ErrorRuntime"
    catchable = True

    def __init__(self, message: str = "", value=None, line: int = 0, column: int = 0, inner: str = ""):
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "…"
        super().__init__(message)
        self.message = message
        self.value = value
        self.line = line
        self.column = column
        self.inner = inner

    def at(self, line: int, column: int) -> "RhaiError":
        """Set the position unless one is already known; return self."""
        if not self.line:
            self.line, self.column = line, column
        return self

    def __str__(self) -> str:
        pos = f" (line {self.line}, position {self.column})" if self.line else ""
        return f"{self.kind}: {self.message}{pos}"


def _kind(name: str, catchable: bool = True) -> type[RhaiError]:
    return type(name, (RhaiError,), {"kind": name, "catchable": catchable, "__doc__": f"Rhai {name}."})


ErrorParsing = _kind("ErrorParsing", False)
ErrorVariableNotFound = _kind("ErrorVariableNotFound")
ErrorFunctionNotFound = _kind("ErrorFunctionNotFound")
ErrorInFunctionCall = _kind("ErrorInFunctionCall")
ErrorArithmetic = _kind("ErrorArithmetic")
ErrorIndexingType = _kind("ErrorIndexingType")
ErrorArrayBounds = _kind("ErrorArrayBounds")
ErrorStringBounds = _kind("ErrorStringBounds")
ErrorBitFieldBounds = _kind("ErrorBitFieldBounds")
ErrorMismatchDataType = _kind("ErrorMismatchDataType")
ErrorMismatchOutputType = _kind("ErrorMismatchOutputType")
ErrorPropertyNotFound = _kind("ErrorPropertyNotFound")
ErrorFor = _kind("ErrorFor")
ErrorDotExpr = _kind("ErrorDotExpr")
ErrorUnboundThis = _kind("ErrorUnboundThis")
ErrorAssignmentToConstant = _kind("ErrorAssignmentToConstant")
ErrorRuntime = _kind("ErrorRuntime")
ErrorTooManyOperations = _kind("ErrorTooManyOperations", False)
ErrorTooManyVariables = _kind("ErrorTooManyVariables", False)
ErrorStackOverflow = _kind("ErrorStackOverflow", False)
ErrorDataTooLarge = _kind("ErrorDataTooLarge", False)
ErrorTerminated = _kind("ErrorTerminated", False)
ErrorModuleNotFound = _kind("ErrorModuleNotFound")
ErrorInModule = _kind("ErrorInModule")
ErrorTooManyModules = _kind("ErrorTooManyModules", False)
ErrorDataRace = _kind("ErrorDataRace")


def parse_error(inner: str, message: str, line: int = 0, column: int = 0) -> RhaiError:
    """A parse error whose Rhai ``ParseErrorType`` variant is ``inner``."""
    return ErrorParsing(message, line=line, column=column, inner=inner)


def fn_not_found(signature: str) -> RhaiError:
    return ErrorFunctionNotFound(f"Function not found: {signature}")

