"""``ServerStatus``: the callback server's display, kept current as callbacks arrive.

A plain ``_repr_html_`` is a snapshot: the cell that started the server kept saying
"0 callbacks received" after the callbacks came. This widget re-renders the server's own HTML
whenever its request log grows (the log calls back from the server's thread; assigning a
trait from another thread is the pattern ipywidgets documents as safe).
"""

from __future__ import annotations

import weakref
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]  # no type information

from .._display import display


class ServerStatus:
    def __init__(self, server: Any) -> None:
        self.html = widgets.HTML(server._repr_html_())
        server_ref = weakref.ref(server)
        html_ref = weakref.ref(self.html)

        def refresh() -> None:
            current, target = server_ref(), html_ref()
            if current is None or target is None:
                return
            value = current._repr_html_()
            if target.value != value:
                target.value = value

        self._refresh = refresh
        listeners = getattr(server.requests, "listeners", None)
        if listeners is not None:
            # one display per server: a re-displayed server updates its newest view only
            listeners[:] = [refresh]

    def display(self) -> None:
        display(self.html)
