"""Start the whole system on one asyncio event loop: OCPP, REST, MCP and energy."""

from __future__ import annotations

import asyncio
import logging
import sys

from pydantic import ValidationError

from ev_charging_system.application import Application, StartupError
from ev_charging_system.config.settings import Settings


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # The ocpp library logs every frame at INFO; that is debugging detail at scale.
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"Invalid configuration:\n{error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        asyncio.run(Application(settings).run_until_signalled())
    except StartupError as error:
        print(f"Could not start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
