"""MCP session ids that name the node holding the session (a cluster's nodes).

A handshake-era MCP client (protocol 2025-11-25 and older) opens a streamable-HTTP
session, which lives in one node's memory (the SDK's session manager: its streams, its
pending elicitations, its resource subscriptions). In a cluster this middleware makes the
session id the client receives `<NODE_ID>.<SDK id>`, so the load balancer can send every
later request of the session to the node that holds it (deploy/cluster/nginx.conf maps the
prefix to the node). On the way in the prefix is removed again for the SDK; an id that
another node issued is passed on as it is, and the SDK answers 404 "Session not found" as
the MCP specification asks for an unknown session: the client opens a new one.

Clients of the 2026 protocol send self-contained requests without a session: any node.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"mcp-session-id"


class NodeSessionIds:
    def __init__(self, app: ASGIApp, node_id: str) -> None:
        self._app = app
        self._prefix = f"{node_id}.".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = [
            (name, value.removeprefix(self._prefix) if name == HEADER else value)
            for name, value in scope["headers"]
        ]

        async def send_with_node(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [
                    (name, self._prefix + value if name.lower() == HEADER else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self._app({**scope, "headers": headers}, receive, send_with_node)
