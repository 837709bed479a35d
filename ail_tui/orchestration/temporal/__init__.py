"""The Temporal orchestration backend (decisions O1–O3), loaded only when chosen.

A run is one workflow (:mod:`.workflow`). Its interpreter, the same
:class:`~ail_tui.engine.executor.Executor` that runs direct runs, is the *driver*: an
activity on some worker (:mod:`.driver`). Each step body it reaches (a prompt, a shell
command) becomes an activity of its own on any worker (:mod:`.bodies`), started by the
workflow when the driver asks. The announced events and the turn-log records the driver
produces go to the workflow, which keeps them for the clients that follow the run
(:mod:`.client`); the client writes the turn log on its own machine.
"""
