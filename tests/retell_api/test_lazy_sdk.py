"""The Retell SDK loads hundreds of pydantic models: ``voiceops serve`` (the command and the
app) must not import it unless the call sync runs."""

from __future__ import annotations

import subprocess
import sys


def test_serve_and_the_command_line_do_not_load_the_sdk() -> None:
    probe = (
        "import sys, voiceops.cli, voiceops.web.app\n"
        "assert 'retell' not in sys.modules, 'the Retell SDK was imported'\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=120)
