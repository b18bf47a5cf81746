"""Domain errors as HTTP answers."""

from __future__ import annotations

import json

from ev_charging_system.api.errors import error_response
from ev_charging_system.models.errors import StorageUnavailableError


def test_an_unavailable_database_is_503_with_retry_after_and_no_internals() -> None:
    response = error_response(
        StorageUnavailableError('OperationalError: connection to server at "db.internal" failed')
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "10"
    body = json.loads(bytes(response.body))
    assert body == {"detail": "the database is unavailable; retry later"}
