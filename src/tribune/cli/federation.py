"""``tribune federation health`` (the domains whose deliveries fail, and
clearing one; docs/adr/0030) and ``tribune account aliases`` / ``tribune
account move`` (the settings page's moving form from the command line, through
the same services)."""

from __future__ import annotations

import argparse

from django.utils.translation import gettext as _

from tribune.cli.errors import CliError


def add_parsers(commands) -> None:
    """The ``federation`` and ``account`` commands, on ``tribune``'s subparsers."""
    federation = commands.add_parser(
        "federation",
        help="federation with other servers",
        description="Look after federation with other servers.",
    )
    federation_commands = federation.add_subparsers(
        dest="federation_command", metavar="SUBCOMMAND", required=True
    )
    health = federation_commands.add_parser(
        "health",
        help="list the domains whose deliveries fail, or clear one",
        description="List the domains whose deliveries are failing: consecutive failures, "
        "days with failures, whether the circuit breaker holds deliveries "
        "back, and whether the domain is marked unavailable (skipped until it "
        "is heard from again). With --clear, forget a domain's failures so "
        "deliveries to it start again now.",
    )
    health.add_argument("--clear", metavar="DOMAIN", help="forget DOMAIN's failures")

    account = commands.add_parser(
        "account",
        help="a local account's aliases and move",
        description="Set a local account's aliases or move it.",
    )
    account_commands = account.add_subparsers(
        dest="account_command", metavar="SUBCOMMAND", required=True
    )
    aliases = account_commands.add_parser(
        "aliases",
        help="set the accounts that may move to USER (alsoKnownAs)",
        description="Make the given ActivityPub ids USER's aliases (alsoKnownAs), "
        "replacing the ones it had; none clears them. An account elsewhere "
        "can move to USER only once it is named here.",
    )
    aliases.add_argument("name", metavar="USER", help="username of a local account")
    aliases.add_argument("uris", metavar="URI", nargs="*",
                         help="ActivityPub ids, or handles (@user@domain) looked up")
    move = account_commands.add_parser(
        "move",
        help="move USER to another account",
        description="Mark USER as moved to the account whose ActivityPub id is URI, which "
        "must name USER among its aliases (fetched from its server now); its "
        "followers here and elsewhere then follow the new account. An empty "
        "URI ('') undoes the move.",
    )
    move.add_argument("name", metavar="USER", help="username of a local account")
    move.add_argument("uri", metavar="URI",
                      help="the new account's ActivityPub id, or its handle (@user@domain)")


def cmd_federation(args: argparse.Namespace) -> int:
    from tribune.federation.health import delivery_health_clear, unhealthy_domains

    if args.clear:
        if delivery_health_clear(domain=args.clear):
            print(
                _("%(domain)s cleared: deliveries to it start again")
                % {"domain": args.clear}
            )
        else:
            print(_("%(domain)s had no delivery failures") % {"domain": args.clear})
        return 0
    rows = unhealthy_domains()
    if not rows:
        print(_("no domain has failing deliveries"))
        return 0
    print(f"{_('domain'):<40} {_('failures'):>8} {_('days'):>4}  {_('state')}")
    for row in rows:
        if row.unavailable_since:
            state = _("unavailable since %(when)s") % {
                "when": row.unavailable_since.isoformat(timespec="seconds")
            }
        elif row.open_until:
            state = _("held back until %(when)s") % {
                "when": row.open_until.isoformat(timespec="seconds")
            }
        else:
            state = _("failing since %(when)s") % {
                "when": row.first_failure_at.isoformat(timespec="seconds")
            }
        print(f"{row.domain:<40} {row.failures:>8} {row.failure_days:>4}  {state}")
    return 0


def cmd_account(args: argparse.Namespace) -> int:
    from tribune.cli.portability import _account
    from tribune.core.errors import DomainError
    from tribune.federation.moves import account_aliases_name, account_move

    account = _account(args.name)
    try:
        if args.account_command == "aliases":
            account_aliases_name(account=account, aliases=args.uris)
            print(
                _("aliases of %(name)s: %(uris)s")
                % {"name": args.name, "uris": " ".join(account.also_known_as) or "-"}
            )
        else:
            account_move(account=account, target_uri=args.uri)
            print(
                _("%(name)s moved to %(uri)s") % {"name": args.name, "uri": args.uri}
                if args.uri
                else _("%(name)s has not moved") % {"name": args.name}
            )
    except DomainError as error:
        raise CliError(str(error)) from None
    return 0
