"""The audit chain's head, checkpointed outside the database.

After each commit that appended audit entries, the committing process records the newest of them
(`{seq, hash, ts}`) in `<var_dir>/audit-checkpoint.json`: written aside and renamed into place, under a lock
file, and never moved backwards, so processes sharing the var directory (replicas on one host or one shared
volume) keep one checkpoint. `check` then compares it with the database:

- a checkpoint behind the database's head is normal (a replica with another var directory appended since);
  those entries are covered by the keyed chain;
- a database head behind the checkpoint is truncation: entries were deleted from the tail;
- an entry at the checkpoint's seq with another hash, or none at all, is a rewrite or a deletion.

A missing or unreadable checkpoint is a warning, not a failure: it means only that truncation and a rewrite of
the whole chain cannot be seen until the next audited change writes a new one.
"""
from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CHECKPOINT_FILE = "audit-checkpoint.json"


@dataclass(frozen=True)
class Checkpoint:
    path: Path

    def advance(self, seq: int, digest: str) -> None:
        """Record (seq, digest) as the head unless the checkpoint already holds a later entry."""
        with self._locked():
            try:
                current = self.read()
            except ValueError:  # unreadable: replaced by this one
                current = None
            if current is not None and current["seq"] >= seq:
                return
            aside = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            aside.write_text(json.dumps({"seq": seq, "hash": digest, "ts": datetime.now(UTC).isoformat()}) + "\n")
            os.replace(aside, self.path)

    def read(self) -> dict[str, Any] | None:
        """The recorded head, None when there is no checkpoint; ValueError when it cannot be read."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except OSError as exc:  # its strerror, not the path: the answer goes to API clients
            raise ValueError(exc.strerror) from None
        except ValueError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("seq"), int) or not isinstance(data.get("hash"), str) \
                or not isinstance(data.get("ts", ""), str):
            raise ValueError("not a {seq, hash, ts} object")
        return {"seq": data["seq"], "hash": data["hash"], "ts": data.get("ts")}

    def check(self, head_seq: int, hashes: Mapping[int, str]) -> tuple[dict[str, Any] | None, list[dict], list[str]]:
        """(the recorded head, problems, warnings) for a chain whose newest entry is `head_seq` and whose entries'
        hashes by seq are `hashes`."""
        try:
            recorded = self.read()
        except ValueError as exc:
            return None, [], [f"the audit checkpoint ({CHECKPOINT_FILE} in the var directory) cannot be read ({exc}): "
                              "truncation cannot be detected until the next audited change rewrites it"]
        if recorded is None:
            return None, [], [f"no audit checkpoint ({CHECKPOINT_FILE} in the var directory): truncation and a "
                              "rewrite of the whole chain cannot be detected until the next audited change writes one"]
        seq, when = recorded["seq"], recorded["ts"] or "?"
        if head_seq < seq:
            problem = (f"truncated: the chain ends at entry {head_seq}, but the checkpoint recorded entry {seq} "
                       f"at {when}: entries were deleted from its tail")
        elif seq not in hashes:
            problem = f"the entry the checkpoint recorded at {when} is gone (deleted)"
        elif hashes[seq] != recorded["hash"]:
            problem = f"rewritten: its hash differs from the one the checkpoint recorded at {when}"
        else:
            return recorded, [], []
        return recorded, [{"seq": seq, "problem": problem}], []

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
