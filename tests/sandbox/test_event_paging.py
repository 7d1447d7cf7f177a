"""The Events list pages in SQL (issue 18): every event exactly once, in order, across pages,
with Twilio's ``next_page_url`` chain ending on the last page. Real SDK, real sandbox."""

from __future__ import annotations

from typing import Any

from twilio.rest import Client


def test_events_page_through_every_event_once_in_order(client: Client, workspace: Any) -> None:
    for n in range(7):  # 7 task.created events, and the others each task brings
        workspace.tasks.create(attributes=f'{{"n": {n}}}')
    everything = workspace.events.list(minutes=60, page_size=1000)
    created = [e for e in everything if e.event_type == "task.created"]
    assert len(created) == 7

    # Page by 3 with the SDK following next_page_url: 3 + 3 + 1, nothing lost or repeated.
    paged = workspace.events.list(minutes=60, event_type="task.created", page_size=3)
    assert [e.sid for e in paged] == [e.sid for e in created]

    page = workspace.events.page(minutes=60, event_type="task.created", page_size=3)
    sizes = []
    while page is not None:
        sizes.append(len(list(page)))
        page = page.next_page()
    assert sizes == [3, 3, 1]


def test_a_last_full_page_has_no_next_page(client: Client, workspace: Any) -> None:
    for _ in range(4):
        workspace.tasks.create(attributes="{}")
    first = workspace.events.page(minutes=60, event_type="task.created", page_size=2)
    second = first.next_page()
    assert second is not None and [e.event_type for e in second] == ["task.created"] * 2
    assert second.next_page() is None  # exactly 4 events: no empty third page is offered
