"""The catalogue's own rules: what every channel relies on when it derives itself from it."""

from __future__ import annotations

import re

import pytest

from ev_charging_system.business_logic.operations import build_catalogue
from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    Catalogue,
    Effect,
    Operation,
)
from ev_charging_system.business_logic.operations.fields import NoInput
from ev_charging_system.models.errors import NotFoundError
from tools.operations_doc import DOC, render

CATALOGUE = build_catalogue()


async def nothing(_ctx: object, _arguments: NoInput) -> None:
    return None


def test_every_rest_path_parameter_is_an_input_field() -> None:
    for operation in CATALOGUE:
        for binding in operation.http:
            for name in re.findall(r"{(\w+)}", binding.path):
                assert name in operation.input.model_fields, (operation.name, name)
            for name in (*binding.query_fields, *binding.query_aliases):
                assert name in operation.input.model_fields, (operation.name, name)


def test_inputs_refuse_unknown_fields_so_typos_are_errors() -> None:
    for operation in CATALOGUE:
        assert operation.input.model_config.get("extra") == "forbid", operation.name


def test_no_two_routes_answer_the_same_request() -> None:
    routes = [(h.method, h.path) for o in CATALOGUE for h in o.http]
    assert len(routes) == len(set(routes))


def test_admin_operations_and_secrets_stay_out_of_the_models_reach() -> None:
    for operation in CATALOGUE.tools():
        assert operation.role <= Role.OPERATOR, operation.name


def test_an_action_must_say_what_it_does_and_names_are_unique() -> None:
    silent = Operation(
        name="do_it",
        title="Do it",
        description="",
        input=NoInput,
        output=None,
        role=Role.OPERATOR,
        perform=nothing,
        effect=Effect.ACT,
    )
    with pytest.raises(ValueError, match="cannot describe itself"):
        Catalogue([silent])
    read = Operation(
        name="look",
        title="Look",
        description="",
        input=NoInput,
        output=None,
        role=Role.VIEWER,
        perform=nothing,
        aliases=("peek",),
    )
    with pytest.raises(ValueError, match="declared twice"):
        Catalogue([read, read])
    catalogue = Catalogue([read])
    assert catalogue.get("peek") is read
    with pytest.raises(NotFoundError):
        catalogue.get("nope")


def test_the_operations_page_is_generated_from_the_catalogue() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m tools.operations_doc"
