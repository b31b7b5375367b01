"""The embedded ``flow`` brain: an offline, deterministic booking and FAQ assistant.

It answers calls when no LLM is configured and takes over when the LLM fails, using the same
agent profile and the same tools. ``brain.FlowBrain`` is the :class:`~voiceops.core.events.Brain`;
``dialogue`` holds the sans-I/O conversation policy; ``understand`` reads caller utterances;
``when`` resolves spoken dates and times in the caller's calendar; ``state`` is the per-call
dialogue state kept in ``CallState.flow``.
"""
