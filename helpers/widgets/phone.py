"""``CallerPhone``: the caller's side of a phone call to your number, in a notebook.

Dial, read what the caller hears (``<Say>`` text, ``<Play>`` URLs, hold music), press digits
while a ``<Gather>`` waits, hang up; the call's status follows the sandbox live (answered,
queued, bridged to the worker, ended). Every text shown goes through the kit's one escaping
path (``helpers._html.escape``): TwiML text is the learner's app's output, not markup.

In live mode there is no simulated caller: the widget shows the number to call from a phone.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped]  # no type information
from twilio.rest import Client

from .._html import escape
from ..config import Settings, load_settings
from ..control import call_in, end_call, press_digits, sandbox_calls
from ..errors import KitError
from ._live import DEFAULT_INTERVAL, LiveWidget

KEYS = "123456789*0#"
HEARD = ("say", "play", "pause", "hold", "bridge")


class CallerPhone(LiveWidget):
    """A simulated caller: ``phone.dial()``, ``phone.press("1")``, ``phone.hang_up()``."""

    def __init__(
        self, client: Client, caller: str = "+15551230000", to: str | None = None,
        interval: float = DEFAULT_INTERVAL, settings: Settings | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.settings = settings or load_settings()
        self.caller = caller
        numbers = client.incoming_phone_numbers.list(limit=20)
        self.to = to or (numbers[0].phone_number if numbers else None)
        self.call: dict[str, Any] | None = None
        self.header = widgets.HTML(self._header_html())
        self.dial_button = widgets.Button(description="📞 Call", button_style="success")
        self.hang_up_button = widgets.Button(description="Hang up", button_style="danger")
        self.key_buttons = [
            widgets.Button(description=k, layout=widgets.Layout(width="3em")) for k in KEYS
        ]
        self.status = widgets.HTML()
        self.transcript = widgets.HTML()
        self.message = widgets.HTML()
        self.dial_button.on_click(lambda _: self._act(self.dial))
        self.hang_up_button.on_click(lambda _: self._act(self.hang_up))
        for button in self.key_buttons:
            button.on_click(lambda b: self._act(lambda: self.press(b.description)))
        keypad = widgets.GridBox(self.key_buttons, layout=widgets.Layout(
            grid_template_columns="repeat(3, 3.4em)", width="11em"))  # fmt: skip
        self.children = [
            self.header,
            widgets.HBox([self.dial_button, self.hang_up_button]),
            widgets.HBox([keypad, widgets.VBox([self.status, self.transcript])]),
            self.message,
        ]
        self.refresh()
        if self.settings.live:
            self._set_message(f"Live mode: call {self.to} from your phone.", "info", "live")
            for child in self._interactive():
                child.disabled = True
        else:
            self._go_live(client.account_sid or "", caller, interval)

    # -- what a click does, callable from code ----------------------------------------------

    def dial(self) -> dict[str, Any]:
        """Call the number: its voice URL's TwiML runs until it waits or ends."""
        self.call = call_in(self.caller, self.to, settings=self.settings)
        self.refresh()
        return self.call

    def press(self, digits: str) -> dict[str, Any]:
        """Press keys while a ``<Gather>`` waits for them."""
        self.call = press_digits(self._sid(), digits, settings=self.settings)
        self.refresh()
        return self.call

    def hang_up(self) -> dict[str, Any]:
        self.call = end_call(self._sid(), settings=self.settings)
        self.refresh()
        return self.call

    @property
    def heard(self) -> list[str]:
        """What the caller heard so far, in order."""
        log = (self.call or {}).get("log", [])
        return [entry["text"] for entry in log if entry["kind"] in HEARD]

    def timeline(self) -> list[str]:
        """The call's log, one line per moment: ``10:02:03  status  answered (in-progress)``."""
        return [f"{e['at'][11:19]}  {e['kind']:<8} {e['text']}" for e in (self.call or {}).get(
            "log", [])]  # fmt: skip

    # -- live view ----------------------------------------------------------------------------

    def refresh(self) -> None:
        if self.call is not None and not self.settings.live:
            mine = [
                c for c in sandbox_calls(settings=self.settings) if c["sid"] == self.call["sid"]
            ]
            if mine:
                self.call = mine[0]
        with self._refresh_lock:
            status = self._status_html()
            transcript = self._transcript_html()
            if self.status.value != status:
                self.status.value = status
            if self.transcript.value != transcript:
                self.transcript.value = transcript

    def _interactive(self) -> list[Any]:
        return [self.dial_button, self.hang_up_button, *self.key_buttons]

    def _act(self, action: Any) -> None:
        try:
            action()
            self._clear_message("action")
        except KitError as error:
            self._set_message(str(error), "error")

    def _sid(self) -> str:
        if self.call is None:
            raise KitError("No call yet", "click 📞 Call (or phone.dial()) first")
        return str(self.call["sid"])

    def _header_html(self) -> str:
        return (f"<b>Caller</b> {escape(self.caller)} → <b>your number</b> "
                f"{escape(self.to or '(none)')}")  # fmt: skip

    def _status_html(self) -> str:
        if self.call is None:
            return "<i>not calling</i>"
        call = self.call
        waiting = {"gather": " — waiting for digits", "enqueue": " — on hold in the queue"}.get(
            call.get("waiting_for") or "", "")  # fmt: skip
        bridged = " — connected to the worker" if call.get("bridged_call_sid") else ""
        return (f'<span class="caller-status">status: <b>{escape(call["status"])}</b>'
                f"{escape(waiting)}{escape(bridged)}</span>")  # fmt: skip

    def _transcript_html(self) -> str:
        lines = "".join(f"<li>{escape(text)}</li>" for text in self.heard)
        return f'<ul class="caller-heard" style="margin:0">{lines}</ul>' if lines else ""
