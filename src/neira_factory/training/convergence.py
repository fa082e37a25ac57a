"""When a run stops: the rules over its iterations, in order.

1. `max_errors` failed evaluations in a row → **failed**;
2. the best metric reached `target` (≥ when maximising, ≤ when minimising) → **converged**;
3. `patience` iterations in a row that did not improve the best metric by at least `tolerance`
   (a failed evaluation improves nothing) → **converged**;
4. `max_iterations` iterations → **not_converged**.

A search that has tried everything at its resolution ends the run as **converged** (or **failed**
when no evaluation ever succeeded). With `approve_every: k` the run waits for a human after every
k-th iteration that did not stop it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    maximize: bool
    max_iterations: int
    tolerance: float
    patience: int
    max_errors: int
    target: float | None = None
    approve_every: int | None = None


@dataclass(frozen=True)
class Verdict:
    state: str  # converged | not_converged | failed
    cause: str  # target | patience | exhausted | max_iterations | errors
    reason: str


class Tracker:
    def __init__(self, rules: Rules):
        self.rules = rules
        self.n = 0
        self.best: float | None = None
        self.best_n: int | None = None
        self.stale = 0
        self.errors_in_row = 0
        self.last_error: str | None = None

    def better(self, metric: float, than: float) -> bool:
        return metric > than if self.rules.maximize else metric < than

    def add(self, metric: float | None, error: str | None = None) -> bool:
        """Count one iteration; True when it is the new best."""
        self.n += 1
        if metric is None or not math.isfinite(metric):
            self.errors_in_row += 1
            self.last_error = error
            self.stale += 1
            return False
        self.errors_in_row = 0
        if self.best is None:
            self.best, self.best_n = metric, self.n
            return True
        gain = (metric - self.best) if self.rules.maximize else (self.best - metric)
        improved = self.better(metric, self.best)
        if improved:
            self.best, self.best_n = metric, self.n
        self.stale = 0 if improved and gain >= self.rules.tolerance and gain > 0 else self.stale + 1
        return improved

    def reached(self) -> bool:
        target = self.rules.target
        if target is None or self.best is None:
            return False
        return self.best >= target if self.rules.maximize else self.best <= target

    def verdict(self) -> Verdict | None:
        r = self.rules
        if self.errors_in_row >= r.max_errors:
            return Verdict("failed", "errors", f"{self.errors_in_row} evaluations failed in a row: {self.last_error}")
        if self.reached():
            return Verdict("converged", "target", f"target {r.target:g} reached: {self.best:.6g} at iteration "
                                                  f"{self.best_n}")
        if self.best is not None and self.stale >= r.patience:
            return Verdict("converged", "patience", f"no improvement of at least {r.tolerance:g} for {r.patience} "
                                                    f"iterations; best {self.best:.6g} at iteration {self.best_n}")
        if self.n >= r.max_iterations:
            return Verdict("not_converged", "max_iterations", f"max_iterations {r.max_iterations} reached; best "
                           + (f"{self.best:.6g} at iteration {self.best_n}" if self.best is not None else "none"))
        return None

    def exhausted(self) -> Verdict:
        if self.best is None:
            return Verdict("failed", "errors", f"no evaluation succeeded: {self.last_error}")
        return Verdict("converged", "exhausted", f"the search space is exhausted at its resolution; best "
                                                 f"{self.best:.6g} at iteration {self.best_n}")

    def checkpoint(self) -> bool:
        """Wait for a human now (after this iteration)?"""
        every = self.rules.approve_every
        return bool(every) and self.n > 0 and self.n % every == 0
