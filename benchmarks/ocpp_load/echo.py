"""The baseline: a bare websockets server that answers every CALL with a CALLRESULT.

No validation, no database, no state: it parses the frame for its id and action and
sends a canned answer (BootNotification: Accepted, so storms and sessions run against it
as against the CSMS; StartTransaction: a transaction id). Whatever the CSMS costs on top
of this is the CSMS's own work. It runs in its own process, like the CSMS, with the
library's defaults (as the CSMS uses them: listen backlog, frame limits).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import time

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

SUBPROTOCOLS = [Subprotocol("ocpp2.0.1"), Subprotocol("ocpp1.6")]


async def _serve(host: str, port: int) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    boot = {"status": "Accepted", "currentTime": now, "interval": 300}
    transaction_ids = itertools.count(1)

    async def answer(ws: ServerConnection) -> None:
        try:
            async for text in ws:
                frame = json.loads(text)
                if frame[0] != 2:
                    continue  # an answer to nothing: this server never calls
                action = frame[2]
                if action == "BootNotification":
                    payload: object = boot
                elif action == "StartTransaction":
                    payload = {
                        "transactionId": next(transaction_ids),
                        "idTagInfo": {"status": "Accepted"},
                    }
                else:
                    payload = {}
                await ws.send(json.dumps([3, frame[1], payload]))
        except ConnectionClosed:
            pass

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with serve(answer, host, port, subprotocols=SUBPROTOCOLS):
        await stop.wait()


def run(host: str, port: int) -> None:
    """Process entry point (multiprocessing target)."""
    from benchmarks.ocpp_load.limits import die_with_parent, raise_open_files_limit

    die_with_parent()
    raise_open_files_limit()
    asyncio.run(_serve(host, port))
