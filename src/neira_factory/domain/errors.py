"""The factory's error vocabulary: every refusal is one of these, with a code and a reason.

The API turns them into `{"code", "reason", ...}` bodies with the status given here,
so a client always learns why, and never gets a 500 for what it sent.
"""
from __future__ import annotations

from typing import Any

# What a node's failure may be (statistics, metrics and the error body's `kind`): a client's bad input,
# the node's own exception, a timeout, a sandbox limit (generic, or wasm's fuel / memory), a trap, a
# policy refusal, or an output that is not what it should be.
EXECUTION_ERROR_KINDS = ("bad_input", "exception", "timeout", "limit", "limit_fuel", "limit_memory", "trap",
                         "policy", "bad_output")


class FactoryError(Exception):
    """A refusal or failure the client can act on."""

    status = 400
    code = "bad_request"

    def __init__(self, reason: str, *, code: str | None = None, status: int | None = None, **extra: Any):
        super().__init__(reason)
        self.reason = reason
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = {k: v for k, v in extra.items() if v is not None}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, **self.extra}


class BadInput(FactoryError):
    """The request is malformed or fails validation (`field` points at the culprit)."""

    status = 422
    code = "invalid_input"


class Unauthorized(FactoryError):
    status = 401
    code = "unauthorized"


class Forbidden(FactoryError):
    """Policy said no: `capability_disabled`, `insufficient_scope`, `safe_mode`, `four_eyes`."""

    status = 403
    code = "forbidden"


class NotFound(FactoryError):
    status = 404
    code = "not_found"


class Conflict(FactoryError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class AnalysisNotPassed(Conflict):
    code = "analysis_not_passed"


class PayloadTooLarge(FactoryError):
    status = 413
    code = "payload_too_large"
