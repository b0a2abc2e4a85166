"""Domain blocks in the client API (docs/adr/0029):

- ``GET /api/v1/instance/domain_blocks`` (methods/instance.md#domain_blocks): the
  silenced and suspended servers with their public reasons, Mastodon's
  DomainBlock entity (``digest`` the SHA-256 of the domain), to anyone, as the
  about page shows them.
- ``/api/v1/admin/domain_blocks`` (methods/admin/domain_blocks.md) for staff:
  list, show, create (422 when the domain has one), update, delete; scopes
  ``admin:read:domain_blocks`` and ``admin:write:domain_blocks``, the token's
  user staff (403 otherwise). All writes go through
  ``accounts.services.domain_block_upsert`` and ``domain_block_delete``, as the
  ``tribune domains`` command does.
"""

from __future__ import annotations

import hashlib

from ninja import Router, Schema

from tribune.accounts.selectors import domain_block_get, domain_blocks_list
from tribune.accounts.services import domain_block_delete, domain_block_upsert
from tribune.api.auth import Scoped, public
from tribune.api.base import responses
from tribune.api.presenters import iso
from tribune.api.schemas import AdminDomainBlock, DomainBlock
from tribune.moderation.decisions import require_moderator

router = Router(tags=["domain_blocks"])

READ, WRITE = Scoped("admin:read:domain_blocks"), Scoped("admin:write:domain_blocks")


def _digest(domain: str) -> str:
    return hashlib.sha256(domain.encode("utf-8")).hexdigest()


def domain_block_out(block) -> dict:
    """The public DomainBlock entity of ``block``."""
    return {
        "domain": block.domain,
        "digest": _digest(block.domain),
        "severity": block.severity,
        "comment": block.public_comment or None,
    }


def admin_domain_block_out(block) -> dict:
    """The Admin::DomainBlock entity of ``block``."""
    return {
        "id": str(block.pk),
        "domain": block.domain,
        "digest": _digest(block.domain),
        "created_at": iso(block.created_at),
        "severity": block.severity,
        "reject_media": block.reject_media,
        "reject_reports": block.reject_reports,
        "private_comment": block.private_comment or None,
        "public_comment": block.public_comment or None,
        "obfuscate": False,
    }


@router.get(
    "/v1/instance/domain_blocks",
    response=responses(list[DomainBlock]),
    auth=public(None),
)
def instance_domain_blocks(request):
    """The servers this one limits or suspends, with the public reason (those
    that only reject media or reports are not listed, as in Mastodon)."""
    return [
        domain_block_out(b)
        for b in domain_blocks_list()
        if b.severity in ("silence", "suspend")
    ]


class DomainBlockIn(Schema):
    domain: str = ""
    severity: str = "silence"
    reject_media: bool = False
    reject_reports: bool = False
    private_comment: str = ""
    public_comment: str = ""
    obfuscate: bool = False  # accepted; domains are always shown in full here


class DomainBlockChange(Schema):
    severity: str | None = None
    reject_media: bool | None = None
    reject_reports: bool | None = None
    private_comment: str | None = None
    public_comment: str | None = None
    obfuscate: bool | None = None


@router.get(
    "/v1/admin/domain_blocks", response=responses(list[AdminDomainBlock]), auth=READ
)
def admin_domain_blocks(request):
    """Every domain block, by domain."""
    require_moderator(request.auth.require_account())
    return [admin_domain_block_out(b) for b in domain_blocks_list()]


@router.get(
    "/v1/admin/domain_blocks/{block_id}",
    response=responses(AdminDomainBlock),
    auth=READ,
)
def admin_domain_block(request, block_id: str):
    """One domain block; 404 if unknown."""
    require_moderator(request.auth.require_account())
    return admin_domain_block_out(domain_block_get(block_id=block_id))


@router.post(
    "/v1/admin/domain_blocks", response=responses(AdminDomainBlock), auth=WRITE
)
def admin_domain_block_create(request, payload: DomainBlockIn):
    """Block a domain; 422 for a bad domain or severity, or one blocked already."""
    require_moderator(request.auth.require_account())
    block = domain_block_upsert(
        domain=payload.domain,
        severity=payload.severity,
        reject_media=payload.reject_media,
        reject_reports=payload.reject_reports,
        private_comment=payload.private_comment,
        public_comment=payload.public_comment,
        new=True,
    )
    return admin_domain_block_out(block)


@router.put(
    "/v1/admin/domain_blocks/{block_id}",
    response=responses(AdminDomainBlock),
    auth=WRITE,
)
def admin_domain_block_update(request, block_id: str, payload: DomainBlockChange):
    """Change a domain block; fields not given stay as they are."""
    require_moderator(request.auth.require_account())
    block = domain_block_get(block_id=block_id)
    changes = payload.dict(exclude_none=True)
    changes.pop("obfuscate", None)
    block = domain_block_upsert(
        domain=block.domain,
        **{
            "severity": block.severity,
            "reject_media": block.reject_media,
            "reject_reports": block.reject_reports,
            "private_comment": block.private_comment,
            "public_comment": block.public_comment,
            **changes,
        },
    )
    return admin_domain_block_out(block)


@router.delete(
    "/v1/admin/domain_blocks/{block_id}", response=responses(dict), auth=WRITE
)
def admin_domain_block_delete(request, block_id: str):
    """Lift a domain block; answers ``{}``."""
    require_moderator(request.auth.require_account())
    domain_block_delete(domain=domain_block_get(block_id=block_id).domain)
    return {}
