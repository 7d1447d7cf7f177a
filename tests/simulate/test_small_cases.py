"""Abandonment, wrap-up and accept delay against hand-computed small days, and the kit's
refusals (live mode, a design naming an unknown queue). Real SDK, real sandbox, its clock."""

from __future__ import annotations

import math

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from helpers.errors import KitError, SandboxError
from helpers.experiment import Agent, Arrivals, Call, Design, Duration, Scenario, simulate
from helpers.experiment.design import single_queue
from helpers.experiment.transport import driver_client


def day(calls: list[Call], **kw: object) -> Scenario:
    return Scenario(agents=(Agent("Solo"),), arrivals=Arrivals(per_hour=1),
                    handle_time=Duration.fixed(0), hours=1, script=tuple(calls), **kw)  # type: ignore[arg-type]  # fmt: skip


def outcomes(results) -> list[tuple[str, object]]:
    """(outcome, wait) per caller. Waits within 0.5 s: the sandbox stamps each step when the
    request reaches it, a few ms after the simulated instant (more on a loaded machine)."""
    return [("answered" if c.accepted is not None else "abandoned" if c.canceled else "open",
             pytest.approx(c.wait, abs=0.5)) for c in results.calls]  # fmt: skip


def test_callers_hang_up_after_their_patience(client: Client) -> None:
    # One agent, 100 s calls. 0 s: answered at once. 10 s (patience 30): hangs up at 40.
    # 20 s (patience 150): answered when the first call ends, at 100 (waited 80).
    # 50 s (patience 30): hangs up at 80.
    calls = [Call(0, 0, {}, 100), Call(1, 10, {}, 100, patience=30),
             Call(2, 20, {}, 100, patience=150), Call(3, 50, {}, 100, patience=30)]  # fmt: skip
    results = simulate(day(calls), single_queue(), client=client, sample_every=None)
    assert outcomes(results) == [("answered", 0.0), ("abandoned", 30.0), ("answered", 80.0),
                                 ("abandoned", 30.0)]  # fmt: skip
    f = results.overall
    assert (f.offered, f.answered, f.abandoned) == (4, 2, 2)
    assert f.longest_wait == pytest.approx(80, abs=0.2)
    assert f.service_level == pytest.approx(1 / 4)  # within 20 s: the first caller only
    (queue,) = results.queues  # TaskRouter's own cumulative statistics agree
    assert (queue.answered, queue.abandoned) == (2, 2)
    assert queue.longest_wait == pytest.approx(80, abs=1)
    workspace = results.statistics["workspace_cumulative"]
    assert (workspace["reservations_accepted"], workspace["tasks_canceled"]) == (2, 2)
    assert results.records()[0]["abandon_rate"] == 0.5
    ws = client.taskrouter.v1.workspaces(results.workspace_sid)
    reasons = [e.event_data["task_canceled_reason"] for e in ws.events.list(
        event_type="task.canceled", minutes=600)]  # fmt: skip
    assert reasons == ["caller hung up", "caller hung up"]


def test_wrap_up_holds_the_agent_then_frees_her(client: Client) -> None:
    # 60 s talk + 20 s wrap-up. Call 0 at 0: wrapping 60-80, completed at 80. Call 1 at 30
    # waits until 80 (50 s), done at 160. Call 2 at 200: answered at once, done at 280.
    # Busy 80 + 80 + 80 = 240 s of the 280 s on shift.
    calls = [Call(i, at, {}, 60, wrap_up=20) for i, at in enumerate((0, 30, 200))]
    hostile = single_queue("<img src=x onerror=alert(1)>")  # a name is text, never markup
    results = simulate(day(calls), hostile, client=client, sample_every=None)
    assert "<img" not in results._repr_html_() and "&lt;img src=x" in results._repr_html_()
    assert outcomes(results) == [("answered", 0.0), ("answered", 50.0), ("answered", 0.0)]
    assert results.occupancy["Solo"] == pytest.approx(240 / 280, abs=0.01)
    ws = client.taskrouter.v1.workspaces(results.workspace_sid)
    wrapups = ws.events.list(event_type="task.wrapup", minutes=600)
    assert len(wrapups) == 3
    ended = sorted(round(c.ended - c.accepted) for c in results.calls)
    assert ended == [80, 80, 80]


def test_agents_accept_after_a_delay_and_shifts_end(client: Client) -> None:
    # Accepting takes 5 s. Ann works 0-100, Bea 50-1000. Call 0 at 0 -> Ann (wait 5, talk
    # 100 s, ends 105: she finishes it after her shift). Call 1 at 10 waits for Bea (50):
    # accepted at 55 (wait 45). Call 2 at 120: Ann is gone, Bea busy until 155: wait 40.
    scenario = Scenario(agents=(Agent("Ann", shift=(0, 100)), Agent("Bea", shift=(50, 1000))),
                        arrivals=Arrivals(per_hour=1), handle_time=Duration.fixed(0),
                        accept_after=5, script=(Call(0, 0, {}, 100), Call(1, 10, {}, 100),
                                                Call(2, 120, {}, 10)))  # fmt: skip
    results = simulate(scenario, single_queue(), client=client, sample_every=None)
    assert outcomes(results) == [("answered", 5.0), ("answered", 45.0), ("answered", 40.0)]
    assert [c.worker for c in results.calls] == ["Ann", "Bea", "Bea"]
    ws = client.taskrouter.v1.workspaces(results.workspace_sid)
    (ann,) = ws.workers.list(friendly_name="Ann")
    assert ann.activity_name == "Offline"  # logged off once her last call was done


def test_live_mode_is_refused_with_a_fix() -> None:
    live = Client("AC" + "0" * 32, "not-a-real-token")  # never sends: refused before any call
    scenario = day([Call(0, 0, {}, 10)])
    with pytest.raises(KitError, match="How to fix"):
        simulate(scenario, single_queue(), client=live)


def test_bad_input_says_how_to_fix() -> None:
    with pytest.raises(KitError, match="not one of"):
        Design("typo", {"Everyone": "1==1"},
               {"task_routing": {"default_filter": {"queue": "Everybody"}}})  # fmt: skip
    with pytest.raises(KitError, match="How to fix"):
        Duration("gamma", 10)
    with pytest.raises(KitError, match="positive rate"):
        Arrivals(per_hour=0)
    assert math.isinf(Call(0, 0, {}, 1).patience)


def test_driver_transport_is_the_sdk_over_one_connection(client: Client) -> None:
    fast = driver_client(client)
    ws = fast.taskrouter.v1.workspaces.create(friendly_name="transport")
    assert fast.taskrouter.v1.workspaces(ws.sid).fetch().friendly_name == "transport"
    with pytest.raises(TwilioRestException) as error:  # the SDK's own errors, parsed
        fast.taskrouter.v1.workspaces("WS" + "0" * 32).fetch()
    assert error.value.status == 404
    with pytest.raises(SandboxError, match="only emulates TaskRouter"):
        fast.api.v2010.accounts.list()


def test_driver_transport_follows_connection_close(client: Client) -> None:
    # A refused credential makes the sandbox answer "Connection: close": the transport drops
    # that connection and the next call opens a new one instead of failing on a dead socket.
    transport = driver_client(client).http_client
    url = "https://taskrouter.twilio.com/v1/Workspaces"
    for _ in range(2):
        refused = transport.request("GET", url, auth=(client.username, "not-the-token"))
        assert refused.status_code == 401 and transport._connection is None
    answer = transport.request("GET", url, auth=(client.username, client.password))
    assert answer.status_code == 200 and transport._connection is not None
    assert transport.requests == 3
    transport.close()
