"""The leaf of voiceops: the domain types every other part shares.

The agent profile (``profile``), per-call state (``state``), the clock of the process and
the caller's local clock (``clock``, ``caller``), transcript lines and the call object
(``transcript``), what a brain yields and is given and the ``Brain`` protocol (``events``,
``actions``), what tools need and return (``ports``), call events and their sink
(``callevents``) and the exception tree (``errors``).

Nothing here imports anything else from voiceops; every other part depends on this one
and never the other way round (``tests/test_layers.py`` walks the import graph).
"""
