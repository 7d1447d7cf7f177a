"""The facilitator's page: every seat's milestones and last errors, live, readable on a projector.

It polls ``GET /_sandbox/workshop/status`` every second (same origin, so the browser resends
the facilitator's Basic auth) and redraws; every text from the sandbox goes into the page
through ``textContent``, never as HTML, and the page's own text through ``html.escape``.
Actions POST with ``X-Workshop-Action: 1`` (see ``control.py``).
"""

from __future__ import annotations

import html

POLL_MS = 1000  # well within the 2 s a facilitator should wait to see a change

STYLE = """
body { font-family: system-ui, sans-serif; font-size: 20px; margin: 1em; color: #111; }
h1 { font-size: 1.6em; margin: 0 0 .4em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: .3em .5em; text-align: center; }
th { background: #eee; font-size: .85em; }
td.done { background: #2e7d32; color: #fff; font-weight: bold; }
td.todo { background: #fafafa; color: #bbb; }
td.errors { text-align: left; font-size: .75em; color: #b71c1c; max-width: 24em; }
button { font-size: .8em; padding: .2em .6em; margin: 0 .1em; }
#state { font-size: .8em; color: #555; }
"""

SCRIPT = """
const POLL_MS = %(poll)d;
const table = document.getElementById("seats");
const state = document.getElementById("state");
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
async function act(path, body) {
  const response = await fetch(path, {method: "POST", credentials: "same-origin",
    headers: {"X-Workshop-Action": "1", "Content-Type": "application/x-www-form-urlencoded"},
    body: body || ""});
  if (!response.ok) state.textContent = "Action failed: HTTP " + response.status;
  refresh();
}
function draw(data) {
  const head = document.createElement("tr");
  const names = ["Seat", "Workspaces", ...data.milestones.map(m => m.label), "Last errors", ""];
  for (const name of names) {
    const th = document.createElement("th");
    th.textContent = name;
    head.appendChild(th);
  }
  const rows = [head];
  for (const seat of data.seats) {
    const row = document.createElement("tr");
    row.dataset.seat = seat.number;
    cell(row, String(seat.number));
    cell(row, seat.workspaces.join(", ") || "-", "workspaces");
    for (const m of data.milestones) {
      const done = seat.milestones[m.key];
      const td = cell(row, done ? "\u2714" : "\u00b7", done ? "done" : "todo");
      td.dataset.milestone = m.key;
    }
    cell(row, seat.errors.map(e => e.code + ": " + e.message).join("\\n"), "errors");
    const actions = cell(row, "");
    const reset = document.createElement("button");
    reset.textContent = "Reset seat";
    reset.className = "reset-seat";
    reset.onclick = () => {
      if (confirm("Empty seat " + seat.number + "? Its workspaces are deleted."))
        act("/_sandbox/workshop/seats/" + seat.number + "/reset");
    };
    actions.appendChild(reset);
    rows.push(row);
  }
  table.replaceChildren(...rows);
  state.textContent = "Updated " + new Date().toLocaleTimeString();
}
async function refresh() {
  try {
    const response = await fetch("/_sandbox/workshop/status", {credentials: "same-origin",
      cache: "no-store"});
    if (!response.ok) { state.textContent = "Sandbox answered HTTP " + response.status; return; }
    draw(await response.json());
  } catch (error) {
    state.textContent = "Sandbox not reachable: " + error;
  }
}
document.getElementById("reset-room").onclick = () => {
  if (confirm("Empty every seat?")) act("/_sandbox/workshop/reset");
};
document.getElementById("advance").onclick = () => {
  const seconds = document.getElementById("seconds").value;
  act("/_sandbox/clock", "Advance=" + encodeURIComponent(seconds));
};
refresh();
setInterval(refresh, POLL_MS);
"""


def facilitator_page(seat_count: int) -> str:
    title = html.escape(f"TaskRouter workshop: {seat_count} seats")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{STYLE}</style></head><body>
<h1>{title}</h1>
<p><button id="reset-room">Reset every seat</button>
Room clock (one clock for every seat): advance by
<input id="seconds" type="number" value="60" min="0" size="5"> s
<button id="advance">Advance</button> <span id="state">Loading…</span></p>
<table id="seats"></table>
<script>{SCRIPT % {"poll": POLL_MS}}</script>
</body></html>
"""
