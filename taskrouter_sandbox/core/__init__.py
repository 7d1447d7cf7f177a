"""The domain core: what TaskRouter does, callable in process, knowing nothing of HTTP.

Routing and reservations (:mod:`.engine`, :mod:`.routing`), timers (:mod:`.timers`),
instructions (:mod:`.instructions`), the rows of the Events resource (:mod:`.event_rows`) and
one module per resource's behaviour (:mod:`.workspaces`, :mod:`.tasks`). Everything here works
on a store :class:`~taskrouter_sandbox.store.Transaction`; the HTTP resources parse a request,
call one function here and render what it returns. See ``docs/architecture.md``.
"""
