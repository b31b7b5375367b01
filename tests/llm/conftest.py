"""The LLM brain tests use the shared ``fake_llm`` and ``client`` fixtures of
``tests/conftest.py``: a fake provider on a real socket and an SDK client for it."""
