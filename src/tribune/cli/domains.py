"""``tribune domains``: the operator's policies for other servers (Mastodon's
domain blocks; docs/adr/0029), through ``accounts.services.domain_block_upsert``
and ``domain_block_delete`` as the admin API uses them."""

from __future__ import annotations

import argparse

from django.utils.translation import gettext as _

SEVERITIES = ["silence", "suspend", "noop"]


def add_parsers(commands) -> None:
    """``domains block``, ``domains unblock`` and ``domains list``, on
    ``tribune``'s subparsers ``commands``."""
    domains = commands.add_parser(
        "domains",
        help="block or limit other servers",
        description="Limit (silence) or suspend other servers, as Mastodon's domain "
        "blocks do. A silenced server's posts stay out of public timelines "
        "and its accounts notify only those who follow them; a suspended "
        "server's activities are refused, nothing is delivered to it, and "
        "the follows between it and this server end.",
    )
    sub = domains.add_subparsers(
        dest="domains_command", metavar="SUBCOMMAND", required=True
    )
    block = sub.add_parser(
        "block",
        help="set the policy for DOMAIN (and its subdomains)",
        description="Set or change the policy for DOMAIN.",
    )
    block.add_argument("domain", metavar="DOMAIN")
    block.add_argument(
        "--severity",
        choices=SEVERITIES,
        default="silence",
        help="(default: %(default)s)",
    )
    block.add_argument(
        "--public-comment",
        default="",
        metavar="TEXT",
        help="the reason shown on the about page and in the API",
    )
    block.add_argument(
        "--private-comment",
        default="",
        metavar="TEXT",
        help="a note for the staff only",
    )
    block.add_argument(
        "--reject-media",
        action="store_true",
        help="also refuse the server's media files",
    )
    block.add_argument(
        "--reject-reports",
        action="store_true",
        help="also refuse reports forwarded by the server",
    )
    unblock = sub.add_parser(
        "unblock",
        help="lift the policy for DOMAIN",
        description="Lift the policy for DOMAIN. Follows that a "
        "suspension ended stay ended.",
    )
    unblock.add_argument("domain", metavar="DOMAIN")
    sub.add_parser(
        "list",
        help="list the policies",
        description="List every domain with its policy, one a line: domain, "
        "severity, options and the public comment, tab-separated.",
    )


def cmd_domains(args: argparse.Namespace) -> int:
    """Run ``tribune domains SUBCOMMAND``; 0 on success (errors are CliError or
    the service's DomainError, told in one line by the caller)."""
    from tribune.accounts.selectors import domain_blocks_list
    from tribune.accounts.services import domain_block_delete, domain_block_upsert

    if args.domains_command == "block":
        block = domain_block_upsert(
            domain=args.domain,
            severity=args.severity,
            public_comment=args.public_comment,
            private_comment=args.private_comment,
            reject_media=args.reject_media,
            reject_reports=args.reject_reports,
        )
        print(
            _("%(domain)s: %(severity)s")
            % {"domain": block.domain, "severity": block.severity}
        )
    elif args.domains_command == "unblock":
        domain_block_delete(domain=args.domain)
        print(
            _("%(domain)s: no longer blocked") % {"domain": args.domain.strip().lower()}
        )
    else:
        for block in domain_blocks_list():
            options = (
                ",".join(
                    name
                    for name in ("reject_media", "reject_reports")
                    if getattr(block, name)
                )
                or "-"
            )
            print(
                "\t".join([block.domain, block.severity, options, block.public_comment])
            )
    return 0
