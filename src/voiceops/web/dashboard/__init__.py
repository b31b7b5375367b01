"""The operator console at ``/dashboard/``: server-rendered pages (Jinja2, autoescaped),
usable without JavaScript, a little same-origin script for live updates.

:func:`build` makes the console's Starlette app from the app's shared resources; the app
factory mounts it. The pages: sign-in, calls (filters, search, export) and one call,
the agent's versions (edit, diff, publish, restore), live calls, users and the audit log.
"""

from voiceops.web.dashboard.console import Console, build

__all__ = ["Console", "build"]
