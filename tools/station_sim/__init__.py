"""Simulated charging stations: one station model, one thin adapter per OCPP version.

    model.py              the station both versions describe: connectors/EVSEs, availability,
                          transactions, meter registers, reservations, charging profiles,
                          local list, firmware/log state (no I/O, no OCPP)
    settings.py           configuration values: 1.6 keys and 2.0.1 variables name one store
    schedules.py          charging limits and composite schedules
    behaviour.py          scripted answers per action (reject, CALLERROR, silence, hang, drop)
    library.py            a typed view of the `ocpp` library's ChargePoint classes
    connection.py         the WebSocket (HTTP Basic when a password is given) and read loop
    adapter.py            what both versions do with the model: requests -> rules -> follow-ups
    v16.py, v201.py       the OCPP 1.6 and 2.0.1 messages, translated to and from the model
    v201_device_model.py  2.0.1 device-model answers (GetVariables, SetVariables, reports)
    session.py, cli.py    the scripted charging session and the command line (--count stations)

Users run `python -m tools.simulated_charge_point` (1.6) or
`python -m tools.simulated_charge_point_v201` (2.0.1); tests import from those modules.
"""
