"""IPython's display calls, typed: IPython leaves ``display`` and ``Markdown`` unannotated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython import display as _ipython

display: Callable[..., Any] = _ipython.display
Markdown: Callable[[str], Any] = _ipython.Markdown
