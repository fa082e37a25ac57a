"""Templates as stored artifacts: a node's (or organ's) template is written content-addressed and read back
verified against its recorded sha256 at every load."""
from __future__ import annotations

import json

from ..domain.errors import NotFound
from ..domain.node import Node
from ..domain.templates import NodeTemplate, OrganTemplate
from ..immune.integrity import sha256_hex, verified
from .uow import UnitOfWork

TEMPLATE_MEDIA_TYPE = "application/vnd.neira.node-template+json"


def template_bytes(template: NodeTemplate | OrganTemplate) -> bytes:
    return json.dumps(template.to_document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def template_digest(template: NodeTemplate | OrganTemplate) -> str:
    """The sha256 the template is (or will be) stored under (store_template's)."""
    return sha256_hex(template_bytes(template))


def require_node(uow: UnitOfWork, node_id: str) -> Node:
    """The node (or organ) with this id, or NotFound."""
    record = uow.nodes.get(node_id)
    if record is None:
        raise NotFound(f"node {node_id} does not exist", id=node_id)
    return record


def load_template(uow: UnitOfWork, record: Node) -> NodeTemplate | OrganTemplate:
    """The node's (or organ's) template, re-verified against its recorded sha256 at every load."""
    content = uow.artifacts.get(record.artifact_sha256) or b""
    model = OrganTemplate if record.is_organ else NodeTemplate
    return model.model_validate_json(verified(content, record.artifact_sha256, f"{record.kind} {record.id}"))


def store_template(uow: UnitOfWork, template: NodeTemplate | OrganTemplate) -> str:
    """Write the template as an artifact; returns its sha256."""
    content = template_bytes(template)
    digest = sha256_hex(content)
    uow.artifacts.put(digest, content, TEMPLATE_MEDIA_TYPE)
    return digest
