"""The simulated stations' scripting API, under the name tests import it by.

It lives in tools/station_sim/behaviour.py (see there for the behaviours); this module
keeps `from tools.station_behaviour import Behaviour` working.
"""

from __future__ import annotations

from tools.station_sim.behaviour import Behaviour, FollowUp, ScriptedChargePoint, now_iso, on
from tools.station_sim.connection import open_websocket, running

__all__ = [
    "Behaviour",
    "FollowUp",
    "ScriptedChargePoint",
    "now_iso",
    "on",
    "open_websocket",
    "running",
]
