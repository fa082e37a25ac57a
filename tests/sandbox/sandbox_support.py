"""What every sandbox test checks besides its own answer: the server keeps serving while a hostile call
runs. `while_polling_healthz` runs calls at once, each in a thread, and polls /healthz meanwhile."""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

Call = Callable[[], httpx.Response]


def while_polling_healthz(url: str, calls: list[Call]) -> tuple[list[httpx.Response], list[float], float]:
    """(the calls' responses, their seconds, the slowest /healthz while they ran)."""
    def timed(call: Call) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        return call(), time.monotonic() - started

    slowest = 0.0
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(timed, call) for call in calls]
        while not all(f.done() for f in futures):
            started = time.monotonic()
            assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.02)
        done = [f.result() for f in futures]
    return [r for r, _ in done], [s for _, s in done], slowest


def healthz_while(server, call: Call) -> tuple[httpx.Response, float, float]:
    """One call on `server`: (its response, its seconds, the slowest /healthz)."""
    (response,), (elapsed,), slowest = while_polling_healthz(server.url, [call])
    return response, elapsed, slowest
