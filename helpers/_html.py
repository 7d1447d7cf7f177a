"""The kit's one escaping path for HTML: every widget and ``_repr_html_`` uses :func:`escape`.

Names, attributes, URLs and descriptions come from TaskRouter (anyone with the workspace's
credentials can set them) or from the network (anyone who can reach the callback server). In
JupyterLab, markup in a rendered output runs with the kernel's rights, so a text value must
never become markup: an activity named ``<img src=x onerror=…>`` is shown as those characters.
``tests/unit/test_hostile_input.py`` checks that no other module escapes on its own.
"""

from __future__ import annotations

import html


def escape(value: object) -> str:
    """``value`` as HTML text: ``str()`` of it with ``& < > " '`` escaped; ``None`` is empty."""
    return "" if value is None else html.escape(str(value), quote=True)
