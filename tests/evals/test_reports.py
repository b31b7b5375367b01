"""Reports of a real run: JSON, JUnit XML, HTML (with untrusted text escaped), the summary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.evals.support import PROFILE, write
from voiceops.config import Settings
from voiceops.evals.outcome import EvalOptions, RunResult
from voiceops.evals.report import progress_line, summary, to_html, to_json, to_junit, transcript
from voiceops.evals.runner import run_suite

HOSTILE = "<script>alert('x')</script> & <b>bold</b>"


@pytest.fixture
async def run(tmp_path: Path, make_settings: Callable[..., Settings]) -> RunResult:
    write(
        tmp_path,
        "hostile.yaml",
        f"""
        description: caller text that would be markup
        call: {{now: 2026-12-08T11:00}}
        turns:
          - caller: "{HOSTILE}"
            expect: {{says: ["<img src=x onerror=alert(1)>"]}}
        """,
    )
    write(
        tmp_path,
        "known.yaml",
        """
        xfail: the agent cannot sell pizza
        call: {now: 2026-12-08T11:00}
        turns:
          - caller: One pepperoni pizza please.
            expect: {says: [pepperoni]}
        """,
    )
    write(
        tmp_path,
        "parking.yaml",
        """
        call: {now: 2026-12-08T11:00}
        turns:
          - caller: Is there parking near you?
            expect: {says: [parking]}
        """,
    )
    options = EvalOptions(paths=[tmp_path], store=False)
    return await run_suite(options, make_settings(), PROFILE)


def test_json_has_every_result_check_and_turn(run: RunResult) -> None:
    body = json.loads(to_json(run))
    assert body["counts"] == {
        "passed": 1,
        "failed": 1,
        "error": 0,
        "xfailed": 1,
        "xpassed": 0,
        "skipped": 0,
    }
    by_name = {r["scenario"]: r for r in body["results"]}
    hostile = by_name["hostile"]
    assert hostile["status"] == "failed"
    assert hostile["turns"][1]["caller"] == HOSTILE
    assert any(c["check"] == "says" and not c["passed"] for c in hostile["checks"])
    assert body["first_frame_ms"]["turns"] == 3 and body["first_frame_ms"]["p50"] is not None


def test_junit_marks_failures_and_xfails(run: RunResult) -> None:
    root = ET.fromstring(to_junit(run))
    assert root.get("tests") == "3" and root.get("failures") == "1"
    cases = {c.get("name"): c for c in root.iter("testcase")}
    failure = cases["hostile"].find("failure")
    assert failure is not None and "says" in (failure.text or "")
    skipped = cases["known"].find("skipped")
    assert skipped is not None and "xfail: the agent cannot sell pizza" in (
        skipped.get("message") or ""
    )
    assert cases["parking"].find("failure") is None
    out = cases["hostile"].find("system-out")
    assert out is not None and HOSTILE in (out.text or ""), "XML escaping keeps the text intact"


def test_html_escapes_caller_and_agent_text_and_shows_the_failed_expectation(
    run: RunResult,
) -> None:
    page = to_html(run)
    assert "<script>" not in page and "<img" not in page and "<b>bold" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "says: missing" in page, "the failing expectation is shown with its turn"
    assert "Thanks for calling Maple Street Hair" in page, "the transcript is there"
    assert "<script" not in page.lower().replace("&lt;script", "")


def test_summary_and_progress_lines(run: RunResult) -> None:
    text = summary(run)
    assert "1 passed, 1 failed, 0 errors, 1 xfailed" in text
    assert "p50" in text and "p95" in text
    lines = {r.name: progress_line(r) for r in run.results}
    assert lines["parking"].startswith("PASS") and lines["known"].startswith("XFAIL")
    assert lines["hostile"].startswith("FAIL") and "turn 1: says" in lines["hostile"]
    hostile = next(r for r in run.results if r.name == "hostile")
    assert "[turn 1] caller: <script>" in transcript(hostile)
