"""voiceops: the backend behind a phone voice agent on Retell AI's custom-LLM WebSocket."""

__version__ = "0.1.0"
