"""Phone numbers: bought and assigned with weighted ``inbound_agents`` (Retell's A/B split),
never with the removed ``inbound_agent_id``; web calls on v3."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from retell import AsyncRetell
from typer.testing import CliRunner

from tests.fakes.fake_retell_api import FakeRetellApi
from tests.retell_api.conftest import PUBLIC_URL, WS_SECRET, cli_env
from voiceops.cli import app
from voiceops.core.profile import AgentProfile
from voiceops.retell.api import (
    RetellApiError,
    Weighted,
    assign_number,
    buy_number,
    create_web_call,
    describe_agents,
    list_numbers,
    parse_split,
    resolve_agent,
)
from voiceops.retell.setup import apply_setup, desired_agent, plan_setup


async def _agent(client: AsyncRetell, profile: AgentProfile) -> str:
    desired = desired_agent(profile, public_url=PUBLIC_URL, ws_secret=WS_SECRET)
    return (await apply_setup(client, await plan_setup(client, desired))).agent_id


def test_a_split_is_versions_and_weights_adding_up_to_one() -> None:
    split = parse_split(["3=0.9", "latest_published=0.1"], "agent_a")
    assert split == [
        Weighted("agent_a", Decimal("0.9"), 3),
        Weighted("agent_a", Decimal("0.1"), "latest_published"),
    ]
    other = parse_split(["agent_b:2=0.5", "1=0.5"], "agent_a")
    assert [w.agent_id for w in other] == ["agent_b", "agent_a"]
    # Exact decimal sums: three thirds written as 0.333... would not make 1.
    assert len(parse_split(["1=0.25", "2=0.25", "3=0.5"], "a")) == 3
    for bad, message in (
        (["3=0.9", "4=0.2"], "add up to 1.1"),
        (["3"], "expected VERSION=WEIGHT"),
        (["3=x"], "not a number"),
        (["3=0", "4=1"], "above 0"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_split(bad, "a")
    assert parse_split([], "a") == []


async def test_numbers_are_bought_and_assigned_with_weights(
    fake_api: FakeRetellApi, client: AsyncRetell, profile: AgentProfile
) -> None:
    agent_id = await _agent(client, profile)
    assert await resolve_agent(client, "Maple Street Hair (voiceops)") == agent_id
    bought = await buy_number(
        client, area_code=415, inbound_agents=[Weighted(agent_id, Decimal(1))], nickname="salon"
    )
    assert bought.phone_number.startswith("+1415")
    assert describe_agents(bought.inbound_agents) == f"{agent_id}@latest_published 100%"
    create = fake_api.paths("/create-phone-number")[0]
    assert create.body["inbound_agents"] == [
        {"agent_id": agent_id, "weight": 1.0, "agent_version": "latest_published"}
    ]
    assert "inbound_agent_id" not in create.body

    # An A/B split between published version 0 and the newest version.
    split = parse_split(["0=0.9", "latest=0.1"], agent_id)
    before, after = await assign_number(client, bought.phone_number, split)
    assert describe_agents(before.inbound_agents) == f"{agent_id}@latest_published 100%"
    assert fake_api.numbers[bought.phone_number]["inbound_agents"] == [
        {"agent_id": agent_id, "weight": 0.9, "agent_version": 0},
        {"agent_id": agent_id, "weight": 0.1, "agent_version": "latest"},
    ]
    assert describe_agents(after.inbound_agents) == (f"{agent_id}@0 90%, {agent_id}@latest 10%")
    assert [n.phone_number for n in await list_numbers(client)] == [bought.phone_number]

    with pytest.raises(RetellApiError, match="404"):
        await assign_number(client, "+19995550000", split)


async def test_a_web_call_comes_from_v3_with_an_access_token(
    fake_api: FakeRetellApi, client: AsyncRetell, profile: AgentProfile
) -> None:
    agent_id = await _agent(client, profile)
    call = await create_web_call(client, agent_id, "latest_published")
    assert call.call_id.startswith("call_web_") and call.access_token
    assert fake_api.paths("/v3/create-web-call")[0].body == {
        "agent_id": agent_id,
        "agent_version": "latest_published",
    }


def test_the_number_commands(fake_api: FakeRetellApi, tmp_path: Path) -> None:
    runner = CliRunner()
    env = cli_env(fake_api, tmp_path)
    setup = runner.invoke(app, ["retell", "setup", "--public-url", PUBLIC_URL], env=env)
    assert setup.exit_code == 0, setup.output
    (agent_id,) = fake_api.agents

    bought = runner.invoke(app, ["retell", "numbers", "buy", "--area-code", "415"], env=env)
    assert bought.exit_code == 0, bought.output
    (number,) = fake_api.numbers
    assert f"bought {number}: {agent_id}@latest_published 100%" in bought.output

    listed = runner.invoke(app, ["retell", "numbers", "list"], env=env)
    assert f"{number} retell-twilio: {agent_id}@latest_published 100%" in listed.output

    assigned = runner.invoke(
        app,
        ["retell", "numbers", "assign", number, "--split", "0=0.75", "--split", "latest=0.25"],
        env=env,
    )
    assert assigned.exit_code == 0, assigned.output
    assert f"now:    {agent_id}@0 75%, {agent_id}@latest 25%" in assigned.output

    requests_before = len(fake_api.requests)
    refused = runner.invoke(
        app, ["retell", "numbers", "assign", number, "--split", "0=0.5"], env=env
    )
    assert refused.exit_code == 2 and "add up to 0.5, not 1" in refused.output
    assert len(fake_api.requests) == requests_before  # refused before asking Retell

    web = runner.invoke(app, ["retell", "web-call"], env=env)
    assert web.exit_code == 0, web.output
    assert "call id: call_web_" in web.output and "access token: web_token_" in web.output
