"""The audit trail: filtered reading and verification, and the models of their answers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from ..domain.actors import Actor
from ..immune.chain import verify
from ..immune.integrity import audited_digests
from ..immune.seal import AuditSeal
from .ports import Authorize, Read


@dataclass(frozen=True)
class Deps:
    """What reading and verifying the audit trail uses: a read, the policy, the seal outside the database."""

    read: Read
    authorize: Authorize
    seal: AuditSeal


class AuditEntryModel(BaseModel):
    seq: int
    ts: str
    actor: str
    action: str
    resource: str
    before: Any
    after: Any
    reason: str | None
    prev_hash: str
    hash: str


class AuditProblem(BaseModel):
    seq: int | None = Field(description="The entry concerned; null for a node with no audited creation.")
    problem: str


class AuditCheckpoint(BaseModel):
    seq: int
    hash: str
    ts: str | None = None


class AuditVerify(BaseModel):
    ok: bool
    checked: int
    problems: list[AuditProblem]
    warnings: list[str] = Field(description="What could not be checked, e.g. no checkpoint outside the database.")
    head: str
    head_seq: int
    keyed_from: int | None = Field(description="The first entry keyed with the audit key; earlier ones are legacy "
                                               "(unkeyed, written before the upgrade).")
    skipped: list[list[int]] = Field(description="Gaps in seq the chain links across (rolled-back inserts).")
    checkpoint: AuditCheckpoint | None = Field(description="The head recorded outside the database, if any.")
    digests_checked: int = Field(description="Nodes whose digest was compared with their audited creation's.")


def list_audit(f: Deps, caller: Actor, **filters: Any) -> list[AuditEntryModel]:
    """Entries filtered by resource, actor or action (the filter `actor` is a name, not the caller)."""
    with f.read() as uow:
        f.authorize(uow, caller, "audit.read")
        return [AuditEntryModel.model_validate(e.to_dict()) for e in uow.audit.list(**filters)]


def verify_audit(f: Deps, actor: Actor) -> AuditVerify:
    """The chain under this process's audit key, its head against the checkpoint kept outside the database, and
    every node's digest against the one its audited creation recorded: chain.verify's answer, with their problems
    and warnings added, `checkpoint` (the recorded head, or None) and `digests_checked`."""
    seal = f.seal
    with f.read() as uow:
        f.authorize(uow, actor, "audit.read")
        entries = uow.audit.iter_all()
        nodes = [(n.id, n.artifact_sha256) for n in uow.nodes.all()]
    result = verify(entries, seal.key)
    recorded, head_problems, head_warnings = seal.check_head(result["head_seq"], {e["seq"]: e["hash"] for e in entries})
    digest_problems, compared = audited_digests(nodes, entries)
    result["problems"] += head_problems + digest_problems
    result["warnings"] += head_warnings
    result.update(ok=not result["problems"], checkpoint=recorded, digests_checked=compared)
    return AuditVerify.model_validate(result)
