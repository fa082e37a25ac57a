"""The CLI's HTTP client: one method per factory endpoint, errors as exceptions the CLI turns into exit codes."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:8080"
TIMEOUT_S = 30.0


# what a header value can carry: visible ASCII and spaces (a line break would end the header; h11 refuses it
# and its error would show the whole value)
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")


def _segment(segment: str) -> str:
    """One path segment, quoted whole; "." and ".." too (as %2E), which a URL would otherwise resolve away
    (an id ".." would reach /factory/approve instead of /factory/nodes/../approve)."""
    quoted = quote(segment, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def _path(*segments: str) -> str:
    """A URL path from segments, each quoted whole (an id never splits into two segments nor climbs out of
    its own)."""
    return "/" + "/".join(_segment(segment) for segment in segments)


class ApiError(Exception):
    """The factory answered with an error body `{"code", "reason", ...}` (or something that is not one)."""

    def __init__(self, status: int, body: dict[str, Any]):
        self.status = status
        self.code = str(body.get("code") or f"http_{status}")
        self.reason = str(body.get("reason") or "no reason given")
        self.extra = {k: v for k, v in body.items() if k not in ("code", "reason")}
        super().__init__(f"{self.code}: {self.reason}")


def _listing(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise ApiError(200, {"code": "bad_response", "reason": "expected a JSON list"})
    return data


class Unreachable(Exception):
    """No answer at all: connection refused, DNS failure, timeout; or no request could be sent (a token a header
    cannot carry)."""


def _json(response: httpx.Response) -> Any:
    """The body as JSON, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def _refused(response: httpx.Response, data: Any) -> ApiError:
    """An error answer as ApiError: its error body, or its text when it has none."""
    return ApiError(response.status_code, data if isinstance(data, dict) else
                    {"reason": response.text.strip() or response.reason_phrase})


class FactoryClient:
    def __init__(self, url: str, token: str | None = None):
        self.url = url.rstrip("/")
        if token and not _HEADER_VALUE.fullmatch(token):  # said without the token: errors reach agents and logs
            raise Unreachable("the token (NEIRA_TOKEN or --token) has a line break, a control or a non-ASCII "
                              "character, which a request header cannot carry; it is not shown here")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT_S)

    def close(self) -> None:
        self._http.close()

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """Transport failures as Unreachable."""
        try:
            yield
        except httpx.ConnectError as exc:
            raise Unreachable(f"cannot connect to the factory at {self.url} ({exc}); is `neira-factory serve` "
                              "running there? Set NEIRA_URL or --url to point elsewhere.") from None
        except httpx.TransportError as exc:
            raise Unreachable(f"no answer from the factory at {self.url}: {exc.__class__.__name__}: {exc}") from None

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        with self._reaching():
            return self._http.request(method, path, **options)

    def _call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
              headers: dict[str, str] | None = None, content: bytes | None = None) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._send(method, path, json=body, params=query, headers=headers, content=content)
        data = _json(response)
        if response.is_error:
            raise _refused(response, data)
        if data is None:
            raise ApiError(response.status_code, {"code": "bad_response",
                                                  "reason": f"{method} {path} did not answer with JSON"})
        return data

    def dryrun(self, document: Any) -> dict[str, Any]:
        return self._call("POST", "/factory/nodes/dryrun", body=document)

    def create(self, document: Any, idempotency_key: str | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/factory/nodes", body=document, headers=headers)

    def nodes(self, **filters: Any) -> list[dict[str, Any]]:
        return _listing(self._call("GET", "/factory/nodes", params=filters))

    def node(self, node_id: str) -> dict[str, Any]:
        return self._call("GET", _path("factory", "nodes", node_id))

    def transition(self, node_id: str, action: str, reason: str | None, force: bool) -> dict[str, Any]:
        return self._call("POST", _path("factory", "nodes", node_id, action),
                          body={"reason": reason, "force": force})

    def analysis(self, node_id: str) -> dict[str, Any]:
        return self._call("GET", _path("factory", "nodes", node_id, "analysis"))

    def invoke(self, route: str, data: Any, key: str | None) -> dict[str, Any]:
        return self._call("POST", _path("invoke", route), body={"input": data, "key": key})

    def build_organ(self, organ_template: dict[str, Any], dryrun: bool) -> dict[str, Any]:
        return self._call("POST", "/organs/build", body={"organ_template": organ_template, "dryrun": dryrun})

    def organ_status(self, organ_id: str) -> dict[str, Any]:
        return self._call("GET", _path("organs", organ_id, "status"))

    def command(self, text: str) -> dict[str, Any]:
        return self._call("POST", "/factory/commands", body={"text": text})

    def confirm(self, token: str) -> dict[str, Any]:
        return self._call("POST", "/factory/commands/confirm", body={"confirm_token": token})

    def capabilities(self) -> dict[str, Any]:
        return self._call("GET", "/capabilities")

    def set_capability(self, name: str, state: str, reason: str | None) -> dict[str, Any]:
        return self._call("PUT", _path("capabilities", name), body={"state": state, "reason": reason})

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        return _listing(self._call("GET", "/audit", params=filters))

    def audit_verify(self) -> dict[str, Any]:
        return self._call("GET", "/audit/verify")

    def safe_mode(self, on: bool, reason: str | None) -> dict[str, Any]:
        return self._call("POST", "/immune/safe-mode", body={"on": on, "reason": reason})

    def status(self, **filters: Any) -> dict[str, Any]:
        return self._call("GET", "/api/neira/introspection/status", params=filters)

    # ---- training ------------------------------------------------------------------------------

    def train(self, node_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", _path("factory", "nodes", node_id, "train"), body=body)

    def training_runs(self, **filters: Any) -> list[dict[str, Any]]:
        return _listing(self._call("GET", "/training", params=filters))

    def training_run(self, run_id: str) -> dict[str, Any]:
        return self._call("GET", _path("training", run_id))

    def training_decide(self, run_id: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """action: approve, reject or continue."""
        return self._call("POST", _path("training", run_id, action), body=body)

    def training_plot(self, run_id: str) -> bytes:
        """The run's PNG plot."""
        response = self._send("GET", _path("training", run_id, "plot.png"))
        if response.is_error:
            raise _refused(response, _json(response))
        return response.content

    # ---- memory --------------------------------------------------------------------------------

    def memory(self, route: str) -> dict[str, Any]:
        return self._call("GET", _path("memory", route))

    def memory_export(self, route: str) -> Iterator[str]:
        """The store's records, one JSON line each (without its newline), as the server streams them."""
        with self._reaching(), self._http.stream("GET", _path("memory", route, "export")) as response:
            if response.is_error:
                response.read()
                raise _refused(response, _json(response))
            yield from (line for line in response.iter_lines() if line)

    def memory_import(self, route: str, lines: bytes, source: str) -> dict[str, Any]:
        """POST JSON Lines (one record a line) to the store."""
        return self._call("POST", _path("memory", route, "import"), params={"source": source}, content=lines,
                          headers={"Content-Type": "application/x-ndjson"})
