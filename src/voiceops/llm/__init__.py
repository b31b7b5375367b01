"""The OpenAI-compatible LLM brain.

``client.make_client`` builds the one shared ``openai.AsyncOpenAI`` of a process;
``brain.LLMBrain`` streams a turn with tools over it; ``messages`` turns Retell transcripts
into chat messages; ``tool_calls`` assembles streamed tool calls; ``errors`` maps provider
failures to :class:`~voiceops.core.errors.LLMError` kinds.
"""

from voiceops.llm.brain import LLMBrain, Usage
from voiceops.llm.client import make_client

__all__ = ["LLMBrain", "Usage", "make_client"]
