"""The voiceops benchmark: the server under a simulated Retell load, measured from outside.

``python -m benchmarks.run`` (or ``scripts/bench``) starts a fresh database, the fake LLM
(``tests/fakes/fake_llm.py``) and ``voiceops serve`` as child processes, then runs the load
generator (:mod:`benchmarks.loadgen`, its own process) at each concurrency level and prints
one Markdown table. Modules: :mod:`~benchmarks.loadgen` plays Retell,
:mod:`~benchmarks.procs` owns child processes and ``/proc`` sampling,
:mod:`~benchmarks.benchdb` creates, counts and drops the database, :mod:`~benchmarks.figures`
turns raw samples into the reported figures, :mod:`~benchmarks.report` prints them.
"""
