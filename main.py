"""Start the whole system on one asyncio event loop: OCPP, REST, MCP and energy."""

from __future__ import annotations

import asyncio
import re
import sys

from pydantic import ValidationError
from pydantic_settings import SettingsError

from ev_charging_system import admin_cli
from ev_charging_system.application import Application, StartupError
from ev_charging_system.config.settings import Settings
from ev_charging_system.logs import configure_logging


def describe_invalid(error: ValidationError) -> str:
    """One line per bad setting, named as it is set (environment variable), no values."""
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        name = "_".join(str(part) for part in problem["loc"]).upper() or "(settings)"
        lines.append(f"  {name}: {problem['msg']}")
    return "\n".join(lines)


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"Invalid configuration:\n{describe_invalid(error)}", file=sys.stderr)
        return 2
    except SettingsError as error:
        # A value that must be JSON (a list such as MCP_ALLOWED_HOSTS) is not.
        found = re.search(r'field "(\w+)"', str(error))
        name = found.group(1).upper() if found else "a setting"
        print(
            f'Invalid configuration: {name} must be JSON (e.g. a list: \'["a", "b"]\')',
            file=sys.stderr,
        )
        return 2
    if sys.argv[1:] and sys.argv[1] in admin_cli.COMMANDS:
        configure_logging("WARNING")  # the answer is the output: no migration chatter
        return admin_cli.main(sys.argv[1:], settings)
    configure_logging(
        settings.log_level,
        log_format=settings.log_format,
        repeats_per_minute=settings.log_repeats_per_minute,
    )
    if sys.argv[1:]:
        print(f"usage: python main.py [{' | '.join(admin_cli.COMMANDS)}] ...", file=sys.stderr)
        return 2
    try:
        asyncio.run(Application(settings, pace_garbage_collection=True).run_until_signalled())
    except StartupError as error:
        print(f"Could not start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
