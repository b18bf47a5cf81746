"""Administration from the command line, for the first token and for emergencies:

    python main.py create-token --name ops-team --role operator   # prints the secret once
    python main.py list-tokens
    python main.py revoke-token --name ops-team
    python main.py new-secret-key                                 # for SECRET_KEY

It uses the same database and services as the running system (DATABASE_URL), and works
whether or not the system is running.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from ev_charging_system.business_logic.ports import UnitOfWork
from ev_charging_system.business_logic.token_service import TokenService
from ev_charging_system.config.settings import Settings
from ev_charging_system.data.database import create_engine, create_session_factory, migrate_to_head
from ev_charging_system.data.secret_box import new_key
from ev_charging_system.data.unit_of_work import SqlAlchemyUnitOfWork
from ev_charging_system.models.access import ApiToken, Role
from ev_charging_system.models.errors import DomainError

COMMANDS = ("create-token", "list-tokens", "revoke-token", "new-secret-key")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python main.py", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-token", help="create a named API token; prints it once")
    create.add_argument("--name", required=True, help="who holds it (as the audit log names it)")
    create.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    commands.add_parser("list-tokens", help="list tokens (names, roles, revoked or not)")
    revoke = commands.add_parser("revoke-token", help="stop a token from working")
    revoke.add_argument("--name", required=True)
    commands.add_parser("new-secret-key", help="print a new key for the SECRET_KEY setting")
    return root


def _line(token: ApiToken) -> str:
    state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
    return f"{token.name:<32} {token.role.label:<8} {token.created_at:%Y-%m-%d %H:%M}  {state}"


async def run(settings: Settings, arguments: argparse.Namespace) -> int:
    engine = create_engine(settings.database_url)
    try:
        if settings.migrate_on_start:
            await migrate_to_head(engine)
        session_factory = create_session_factory(engine)

        def unit_of_work() -> UnitOfWork:
            return SqlAlchemyUnitOfWork(session_factory)

        tokens = TokenService(
            unit_of_work, lambda: datetime.now(UTC), settings.api_token.get_secret_value()
        )
        try:
            if arguments.command == "create-token":
                issued = await tokens.create(arguments.name, Role.named(arguments.role))
                print(issued.secret)
                print(
                    f"created {issued.token.role.label} token {issued.token.name!r}; this is the "
                    "only time it is shown",
                    file=sys.stderr,
                )
            elif arguments.command == "list-tokens":
                for token in await tokens.all():
                    print(_line(token))
            else:
                revoked = await tokens.revoke(arguments.name)
                print(f"revoked {revoked.name!r}", file=sys.stderr)
        except DomainError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        return 0
    finally:
        await engine.dispose()


def main(argv: Sequence[str], settings: Settings) -> int:
    arguments = parser().parse_args(list(argv))
    if arguments.command == "new-secret-key":
        print(new_key())
        return 0
    return asyncio.run(run(settings, arguments))
