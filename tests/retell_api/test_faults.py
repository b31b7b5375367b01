"""When Retell's API fails: a refused key, rate limits with ``retry-after``, server errors
and timeouts, through the SDK's own retries, as one short error that never shows the key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from retell import AsyncRetell

from tests.fakes.fake_retell_api import FakeRetellApi
from tests.retell_api.conftest import api_settings
from voiceops.retell.api import RetellApiError, connect, list_numbers


@pytest.fixture
async def retrying(fake_api: FakeRetellApi, tmp_path: Path) -> AsyncIterator[AsyncRetell]:
    """A client with the SDK's default two retries."""
    sdk = connect(api_settings(fake_api, tmp_path), max_retries=2)
    try:
        yield sdk
    finally:
        await sdk.close()


async def test_a_refused_key_is_not_retried_and_not_shown(
    fake_api: FakeRetellApi, tmp_path: Path
) -> None:
    wrong = api_settings(fake_api, tmp_path, retell_api_key=SecretStr("key_wrong_abcdef"))
    sdk = connect(wrong)
    try:
        with pytest.raises(RetellApiError) as refused:
            await list_numbers(sdk)
    finally:
        await sdk.close()
    assert refused.value.status == 401
    assert "refused the API key" in str(refused.value)
    assert "key_wrong_abcdef" not in str(refused.value)
    assert len(fake_api.requests) == 1 and not fake_api.requests[0].authorized


async def test_a_rate_limit_is_waited_out_as_retry_after_says(
    fake_api: FakeRetellApi, retrying: AsyncRetell
) -> None:
    fake_api.fail(429, times=2, retry_after="0.01")
    assert await list_numbers(retrying) == []
    assert [r.status for r in fake_api.requests] == [429, 429, 200]


async def test_a_rate_limit_that_lasts_is_an_error_after_the_retries(
    fake_api: FakeRetellApi, retrying: AsyncRetell
) -> None:
    fake_api.fail(429, times=5, retry_after="0.01")
    with pytest.raises(RetellApiError, match=r"rate limited by Retell \(429\)") as limited:
        await list_numbers(retrying)
    assert limited.value.status == 429
    assert len(fake_api.requests) == 3


async def test_a_server_error_is_retried(fake_api: FakeRetellApi, retrying: AsyncRetell) -> None:
    fake_api.fail(500, retry_after="0.01")
    assert await list_numbers(retrying) == []
    assert [r.status for r in fake_api.requests] == [500, 200]


async def test_a_server_error_without_retries_names_what_failed(
    fake_api: FakeRetellApi, client: AsyncRetell
) -> None:
    fake_api.fail(500)
    with pytest.raises(RetellApiError) as failed:
        await list_numbers(client)
    assert str(failed.value) == "list phone numbers: Retell answered 500: injected fault"


async def test_a_stalled_answer_is_a_timeout(fake_api: FakeRetellApi, tmp_path: Path) -> None:
    fake_api.stall(1.0)
    sdk = connect(api_settings(fake_api, tmp_path, retell_timeout_s=0.1), max_retries=0)
    try:
        with pytest.raises(RetellApiError, match="did not answer in time"):
            await list_numbers(sdk)
    finally:
        await sdk.close()


async def test_an_unreachable_api_is_an_error(tmp_path: Path) -> None:
    with FakeRetellApi() as api:
        settings = api_settings(api, tmp_path)
    sdk = connect(settings, max_retries=0)  # the port is closed now
    try:
        with pytest.raises(RetellApiError, match="cannot reach Retell's API"):
            await list_numbers(sdk)
    finally:
        await sdk.close()
