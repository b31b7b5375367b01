"""``voiceops call``: a phone call in the terminal against a running server.

Reads the caller's lines from standard input and prints what the agent would say, with
the time to its first chunk and any action (transfer, hang-up, tool runs).
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import Any

from voiceops.evals.peer import Reply, RetellPeer


def _show(reply: Reply) -> None:
    first = reply.first_chunk_s
    timing = f"{first * 1000:.0f} ms" if first is not None else "-"
    for tool in reply.tool_calls:
        sys.stdout.write(f"   [tool {tool.name} {tool.arguments}]\n")
    sys.stdout.write(f"agent ({timing}): {reply.text or '(silence)'}\n")
    if reply.transfer_number:
        sys.stdout.write(f"   [transfer to {reply.transfer_number}]\n")
    if reply.end_call:
        sys.stdout.write("   [agent hangs up]\n")
    sys.stdout.flush()


async def run_terminal_call(
    base_url: str,
    *,
    from_number: str,
    caller_name: str | None = None,
    timezone: str | None = None,
) -> int:
    call_id = f"call_local_{uuid.uuid4().hex[:12]}"
    call: dict[str, Any] = {
        "call_id": call_id,
        "call_type": "phone_call",
        "direction": "inbound",
        "from_number": from_number,
        "to_number": "+12125550142",
        "call_status": "registered",
    }
    if caller_name:
        call["retell_llm_dynamic_variables"] = {"caller_name": caller_name}
    if timezone:
        call["metadata"] = {"caller_timezone": timezone}
    url = f"{base_url.rstrip('/')}/{call_id}"
    loop = asyncio.get_running_loop()
    try:
        peer = RetellPeer(url, call=call)
        await peer.connect()
    except OSError as exc:
        sys.stderr.write(f"cannot connect to {url}: {exc}\n")
        return 1
    try:
        _show(await peer.wait_begin())
        while not peer.closed.is_set():
            sys.stdout.write("you: ")
            sys.stdout.flush()
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            text = line.strip()
            if text:
                reply = await peer.turn(text, timeout_s=30)
            else:
                reply = await peer.wait(await peer.silence(), timeout_s=30)
            _show(reply)
            if reply.end_call or reply.transfer_number:
                break
    finally:
        await peer.close()
    return 0
