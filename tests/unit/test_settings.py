"""Settings refuse unsafe production values and accept the URL forms people paste."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ev_charging_system.config.settings import Settings
from ev_charging_system.data.secret_box import new_key
from tests.conftest import TEST_SECRET_KEY


def test_plain_database_urls_get_the_async_driver() -> None:
    assert (
        Settings.model_validate({"database_url": "postgresql://u@h/db"}).database_url
        == "postgresql+psycopg://u@h/db"
    )
    assert Settings.model_validate({"database_url": "sqlite:///x.db"}).database_url == (
        "sqlite+aiosqlite:///x.db"
    )


def test_production_refuses_the_demo_api_token() -> None:
    with pytest.raises(ValidationError, match="API_TOKEN"):
        Settings.model_validate({"environment": "production"})
    secrets = {
        "environment": "production",
        "api_token": "s" * 32,
        "mcp_read_token": "r" * 32,
        "mcp_operate_token": "o" * 32,
    }
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings.model_validate(secrets)
    with pytest.raises(ValidationError, match="SECRET_KEY must be a Fernet key"):
        Settings.model_validate({**secrets, "secret_key": "too-short"})
    ok = Settings.model_validate({**secrets, "secret_key": new_key()})
    assert ok.api_token.get_secret_value() == "s" * 32


def test_an_empty_anthropic_key_means_no_key() -> None:
    assert Settings.model_validate({"anthropic_api_key": "  "}).anthropic_api_key is None


def test_ports_are_validated() -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"ocpp_server_port": 70_000})


def test_shutdown_leaves_time_to_answer_a_call_waiting_on_the_database() -> None:
    with pytest.raises(ValidationError, match="SHUTDOWN_TIMEOUT_SECONDS must exceed"):
        Settings.model_validate({"database_timeout_seconds": 10, "shutdown_timeout_seconds": 10})
    settings = Settings.model_validate({})
    assert settings.shutdown_timeout_seconds > settings.database_timeout_seconds + 1


def test_a_single_process_is_the_default() -> None:
    settings = Settings.model_validate({})
    assert settings.cluster_nats_url is None and not settings.is_cluster
    assert settings.node_id  # host-pid, used only in a cluster


def test_cluster_mode_needs_postgresql() -> None:
    with pytest.raises(ValidationError, match="CLUSTER_NATS_URL needs a shared PostgreSQL"):
        Settings.model_validate({"cluster_nats_url": "nats://127.0.0.1:4222"})
    cluster = {"cluster_nats_url": "nats://n:4222", "database_url": "postgresql://u@h/db"}
    with pytest.raises(ValidationError, match="CLUSTER_NATS_URL needs SECRET_KEY"):
        Settings.model_validate(cluster)
    settings = Settings.model_validate({**cluster, "secret_key": TEST_SECRET_KEY})
    assert settings.is_cluster
    assert Settings.model_validate({"cluster_nats_url": " "}).cluster_nats_url is None


def test_a_node_id_is_a_subject_token() -> None:
    with pytest.raises(ValidationError, match="NODE_ID"):
        Settings.model_validate({"node_id": "a.b"})
    assert Settings.model_validate({"node_id": "node-1"}).node_id == "node-1"
