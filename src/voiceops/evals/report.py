"""What a run reports: a line per scenario as it finishes, a summary table, and files.

* :func:`progress_line` and :func:`summary` are for the terminal;
* :func:`to_json` is every result with every check and turn (``--json FILE``);
* :func:`to_junit` is JUnit XML for CI systems (``--junit FILE``): xfailed and skipped
  scenarios are ``<skipped>`` with their reason, failures carry every failed expectation;
* :func:`to_html` is one self-contained page (``--html FILE``): the summary, then each
  scenario that did not pass with its transcript, the failing turns marked and the
  expectations they failed next to them. Caller and agent text is untrusted: the page is
  rendered by Jinja2 with autoescaping on, and has no script.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment

from voiceops.evals.outcome import RunResult, ScenarioResult, Status, percentile
from voiceops.evals.play import TurnRecord
from voiceops.evals.results import CheckResult

_LABEL: dict[Status, str] = {
    "passed": "PASS",
    "failed": "FAIL",
    "xfailed": "XFAIL",
    "xpassed": "XPASS",
    "skipped": "SKIP",
    "error": "ERROR",
}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _name(result: ScenarioResult, repeated: bool) -> str:
    return f"{result.name} #{result.attempt}" if repeated else result.name


def progress_line(result: ScenarioResult, *, repeated: bool = False) -> str:
    """One line as a scenario finishes."""
    label = _LABEL[result.status]
    name = _name(result, repeated)
    turns = len(result.record.turns) - 1 if result.record else 0
    timing = (
        f"{turns:>2} turns  p50 {_ms(percentile(result.turn_latencies, 50)):>4} ms"
        f"  {result.duration_s:5.2f} s"
    )
    if result.status == "passed":
        return f"{label:<6} {name:<44} {timing}"
    if result.status == "xpassed":
        return f"{label:<6} {name:<44} {timing}  passes now: remove `xfail: {result.reason}`"
    return f"{label:<6} {name:<44} {result.reason}"


def summary(run: RunResult, *, repeated: bool = False) -> str:
    """The table and the totals."""
    rows = [
        f"{'scenario':<44} {'result':<8} {'turns':>5} {'first frame p50/p95 ms':>23} {'time s':>7}"
    ]
    for r in run.results:
        turns = len(r.record.turns) - 1 if r.record else 0
        lat = r.turn_latencies
        frame = f"{_ms(percentile(lat, 50))} / {_ms(percentile(lat, 95))}"
        rows.append(
            f"{_name(r, repeated):<44} {r.status:<8} {turns:>5} {frame:>23} {r.duration_s:>7.2f}"
        )
    latencies = run.latencies
    totals = (
        f"{len(run.results)} scenario runs on {run.brain} ({run.target}): "
        f"{run.count('passed')} passed, {run.count('failed')} failed, "
        f"{run.count('error')} errors, {run.count('xfailed')} xfailed, "
        f"{run.count('xpassed')} xpassed, {run.count('skipped')} skipped"
    )
    timing = (
        f"per-turn first speakable frame: p50 {_ms(percentile(latencies, 50))} ms, "
        f"p95 {_ms(percentile(latencies, 95))} ms over {len(latencies)} turns; "
        f"{run.duration_s:.1f} s"
    )
    lines = ["", *rows, "", totals, timing]
    not_applied = [c for r in run.results for c in r.not_applied]
    if not_applied:
        by_note: dict[str, int] = {}
        for check in not_applied:
            by_note[check.note] = by_note.get(check.note, 0) + 1
        for note, count in sorted(by_note.items()):
            lines.append(f"{count} expectations {note}")
    for r in run.results:
        if r.status == "xpassed":
            lines.append(f"XPASS {r.name}: passes now, remove its xfail ({r.reason})")
    if run.flaky:
        lines.append(f"flaky (mixed outcomes over the repeats): {', '.join(run.flaky)}")
    if run.stored:
        lines.append(f"stored as run {run.run_id}")
    return "\n".join(lines)


# --- JSON -----------------------------------------------------------------------------


def _check_json(check: CheckResult) -> dict[str, Any]:
    return {
        "where": check.where,
        "check": check.name,
        "passed": check.passed,
        "applied": check.applied,
        "level": check.level,
        "detail": check.detail,
        "note": check.note,
    }


def _turn_json(turn: TurnRecord) -> dict[str, Any]:
    return {
        "turn": turn.label,
        "caller": turn.caller,
        "silence": turn.kind == "silence",
        "barge_in": turn.barge_in,
        "response_id": turn.response_id,
        "agent": turn.text,
        "heard": turn.heard,
        "first_frame_ms": turn.first_frame_ms,
        "complete_ms": turn.complete_ms,
        "filler": turn.filler,
        "tools": [
            {"name": t.name, "arguments": t.arguments, "result": t.result} for t in turn.tools
        ],
        "transfer_number": turn.transfer_number,
        "end_call": turn.end_call,
    }


def to_json(run: RunResult) -> str:
    latencies = run.latencies
    body = {
        "run_id": run.run_id,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat(),
        "brain": run.brain,
        "target": run.target,
        "code_version": run.code_version,
        "profile_version": run.profile_version,
        "duration_s": round(run.duration_s, 3),
        "counts": {
            s: run.count(s) for s in ("passed", "failed", "error", "xfailed", "xpassed", "skipped")
        },
        "flaky": run.flaky,
        "first_frame_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "turns": len(latencies),
        },
        "results": [
            {
                "scenario": r.name,
                "path": str(r.loaded.path),
                "attempt": r.attempt,
                "status": r.status,
                "reason": r.reason,
                "duration_s": round(r.duration_s, 3),
                "first_frame_ms": {
                    "p50": percentile(r.turn_latencies, 50),
                    "p95": percentile(r.turn_latencies, 95),
                },
                "checks": [_check_json(c) for c in r.checks],
                "turns": [_turn_json(t) for t in r.record.turns] if r.record else [],
            }
            for r in run.results
        ],
    }
    return json.dumps(body, indent=2, ensure_ascii=False, default=str)


# --- JUnit ----------------------------------------------------------------------------


def transcript(result: ScenarioResult) -> str:
    """The call as text: caller, tools, agent (with its first-frame time), actions."""
    if result.record is None:
        return ""
    lines = []
    for turn in result.record.turns:
        if turn.kind == "caller":
            lines.append(f"[{turn.label}] caller: {turn.caller}")
        elif turn.kind == "silence":
            lines.append(f"[{turn.label}] caller: (silence)")
        if turn.barge_in:
            lines.append(f"[{turn.label}] caller talks over: {turn.barge_in}")
        for tool in turn.tools:
            lines.append(f"    tool {tool.name} {json.dumps(tool.arguments, default=str)}")
        lines.append(f"[{turn.label}] agent ({_ms(turn.first_frame_ms)} ms): {turn.text}")
        if turn.transfer_number:
            lines.append(f"    transfer to {turn.transfer_number}")
        if turn.end_call:
            lines.append("    hangs up")
    return "\n".join(lines)


def to_junit(run: RunResult, *, repeated: bool = False) -> str:
    suites = ET.Element(
        "testsuites",
        name="voiceops eval",
        tests=str(len(run.results)),
        failures=str(run.count("failed")),
        errors=str(run.count("error")),
        skipped=str(run.count("skipped") + run.count("xfailed")),
        time=f"{run.duration_s:.3f}",
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"voiceops eval ({run.brain})",
        tests=str(len(run.results)),
        failures=str(run.count("failed")),
        errors=str(run.count("error")),
        skipped=str(run.count("skipped") + run.count("xfailed")),
        time=f"{run.duration_s:.3f}",
        timestamp=run.started_at.isoformat(),
    )
    for r in run.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="voiceops.evals",
            name=_name(r, repeated),
            file=str(r.loaded.path),
            time=f"{r.duration_s:.3f}",
        )
        if r.status == "failed":
            body = "\n".join(f"{c.where}: {c.name}: {c.detail}" for c in r.failures)
            failure = ET.SubElement(case, "failure", message=r.reason, type="expectation")
            failure.text = body
        elif r.status == "error":
            ET.SubElement(case, "error", message=r.reason, type="error")
        elif r.status == "xfailed":
            ET.SubElement(case, "skipped", message=f"xfail: {r.reason}")
        elif r.status == "skipped":
            ET.SubElement(case, "skipped", message=r.reason)
        text = transcript(r)
        if r.status == "xpassed":
            text = f"XPASS: passes now, remove its xfail ({r.reason})\n{text}"
        if text:
            out = ET.SubElement(case, "system-out")
            out.text = text
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


# --- HTML -----------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>voiceops eval {{ run.run_id }}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222}
table{border-collapse:collapse;width:100%;margin:1em 0}
td,th{border-bottom:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
.passed{color:#1a7f37}.failed,.error{color:#b42318}.xfailed,.skipped{color:#8a6d00}
.xpassed{color:#6941c6}.turn{margin:.4em 0;padding:.4em .6em;border-left:3px solid #ddd}
.turn.bad{border-color:#b42318;background:#fff5f4}.who{font-weight:600}
.tool,.meta{color:#555;font-family:ui-monospace,monospace;font-size:12px}
.fail{color:#b42318}.na{color:#777}
</style></head><body>
<h1>voiceops eval</h1>
<p>Run <code>{{ run.run_id }}</code> on <b>{{ run.brain }}</b> ({{ run.target }}),
code {{ run.code_version }}{% if run.profile_version %}, profile version
{{ run.profile_version }}{% endif %}, {{ '%.1f' % run.duration_s }} s.</p>
<p>{% for s, n in counts %}<span class="{{ s }}">{{ n }} {{ s }}</span>{% if not loop.last %},
{% endif %}{% endfor %}. Per-turn first speakable frame p50 {{ p50 }} ms, p95 {{ p95 }} ms.</p>
{% if run.flaky %}<p class="failed">Flaky: {{ run.flaky|join(', ') }}</p>{% endif %}
<table><tr><th>scenario</th><th>result</th><th>first frame p50/p95 ms</th><th>why</th></tr>
{% for r in results %}<tr><td><a href="#s{{ loop.index }}">{{ r.label }}</a></td>
<td class="{{ r.status }}">{{ r.status }}</td><td>{{ r.p50 }} / {{ r.p95 }}</td>
<td>{{ r.reason }}</td></tr>
{% endfor %}</table>
{% for r in results %}{% if r.status != 'passed' %}
<h2 id="s{{ loop.index }}">{{ r.label }} <span class="{{ r.status }}">{{ r.status }}</span></h2>
<p class="meta">{{ r.path }}{% if r.description %} &mdash; {{ r.description }}{% endif %}</p>
{% if r.reason %}<p>{{ r.reason }}</p>{% endif %}
{% for t in r.turns %}<div class="turn{% if t.failures %} bad{% endif %}">
<div class="meta">{{ t.label }}{% if t.first_frame_ms is not none %}, first frame
{{ '%.0f' % t.first_frame_ms }} ms{% endif %}{% if t.note %}: {{ t.note }}{% endif %}</div>
{% if t.caller is not none %}<div><span class="who">Caller:</span> {{ t.caller }}</div>{% endif %}
{% if t.silence %}<div><span class="who">Caller:</span> <i>(silence)</i></div>{% endif %}
{% if t.barge_in %}<div><span class="who">Caller, over the agent:</span> {{ t.barge_in }}</div>
{% endif %}{% for tool in t.tools %}<div class="tool">{{ tool }}</div>{% endfor %}
<div><span class="who">Agent:</span> {{ t.agent }}</div>
{% if t.action %}<div class="tool">{{ t.action }}</div>{% endif %}
{% for c in t.failures %}<div class="fail">&#10007; {{ c.name }}: {{ c.detail }}</div>{% endfor %}
{% for c in t.unapplied %}<div class="na">&ndash; {{ c.name }}: {{ c.note }}</div>{% endfor %}
</div>{% endfor %}
{% for c in r.call_failures %}<div class="fail">&#10007; call: {{ c.name }}: {{ c.detail }}</div>
{% endfor %}{% endif %}{% endfor %}
</body></html>
"""


def _turn_view(turn: TurnRecord, checks: Sequence[CheckResult]) -> dict[str, Any]:
    mine = [c for c in checks if c.where == turn.label]
    action = ""
    if turn.transfer_number:
        action = f"transfers the call to {turn.transfer_number}"
    elif turn.end_call:
        action = "hangs up"
    return {
        "label": turn.label,
        "caller": turn.caller if turn.kind == "caller" else None,
        "silence": turn.kind == "silence",
        "barge_in": turn.barge_in,
        "agent": turn.text,
        "tools": [f"{t.name} {json.dumps(t.arguments, default=str)}" for t in turn.tools],
        "action": action,
        "first_frame_ms": turn.first_frame_ms,
        "note": turn.note,
        "failures": [c for c in mine if c.failed],
        "unapplied": [c for c in mine if not c.applied],
    }


def to_html(run: RunResult, *, repeated: bool = False) -> str:
    env = Environment(autoescape=True, trim_blocks=False, lstrip_blocks=False)
    template = env.from_string(_PAGE)
    latencies = run.latencies
    results = []
    for r in run.results:
        turns = r.record.turns if r.record else []
        results.append(
            {
                "label": _name(r, repeated),
                "status": r.status,
                "reason": r.reason,
                "path": str(r.loaded.path),
                "description": r.loaded.scenario.description,
                "p50": _ms(percentile(r.turn_latencies, 50)),
                "p95": _ms(percentile(r.turn_latencies, 95)),
                "turns": [_turn_view(t, r.checks) for t in turns],
                "call_failures": [c for c in r.failures if c.where == "call"],
            }
        )
    counts = [
        (s, run.count(s))
        for s in ("passed", "failed", "error", "xfailed", "xpassed", "skipped")
        if run.count(s)
    ]
    return template.render(
        run=run,
        results=results,
        counts=counts,
        p50=_ms(percentile(latencies, 50)),
        p95=_ms(percentile(latencies, 95)),
    )
