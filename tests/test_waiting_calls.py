"""The engine's queue of waiting calls, worked by hand: the order a free unit takes them in
(acute before urgent before planned, then first come, then the order of queueing), the calls a
unit cannot reach passed over, and deadlines found in their own order."""

from __future__ import annotations

from planner.sim.engine import Waiting, WaitingCalls


def _queue() -> WaitingCalls:
    q = WaitingCalls()
    q.add(call=1, rank=1, now=0.0, deadline=20.0)  # urgent, first to wait
    q.add(call=2, rank=0, now=5.0, deadline=25.0)  # acute
    q.add(call=3, rank=1, now=5.0, deadline=10.0)  # urgent, later
    q.add(call=4, rank=0, now=5.0, deadline=30.0)  # acute, queued after call 2 at the same minute
    q.add(call=5, rank=2, now=1.0, deadline=15.0)  # planned
    return q


def _order(q: WaitingCalls) -> list[int]:
    out = []
    while (taken := q.take(lambda call: True)) is not None:
        out.append(taken.call)
    return out


def test_a_free_unit_takes_the_most_urgent_then_the_longest_waiting_then_the_first_queued() -> None:
    q = _queue()
    assert len(q) == 5
    assert _order(q) == [2, 4, 1, 3, 5]
    assert len(q) == 0 and q.take(lambda call: True) is None


def test_a_call_the_unit_cannot_reach_in_time_waits_on_for_another() -> None:
    q = _queue()
    taken = q.take(lambda call: call not in (2, 4))
    assert taken == Waiting(rank=1, queued=0.0, seq=0, call=1, deadline=20.0)
    assert _order(q) == [2, 4, 3, 5]


def test_calls_past_their_deadline_leave_in_the_order_of_their_deadlines() -> None:
    q = _queue()
    assert q.expired(10.0) == []  # call 3's deadline is 10: not yet past
    assert [e.call for e in q.expired(16.0)] == [3, 5]
    assert q.expired(20.0) == []
    q.take(lambda call: call == 1)  # taken by a unit before its deadline: never expires
    assert [e.call for e in q.expired(26.0)] == [2]
    assert _order(q) == [4]
    assert q.expired(1e9) == []  # call 4 was taken: nothing is left behind in the deadlines


def test_the_calls_left_at_the_end_come_out_in_key_order_and_the_queue_is_empty() -> None:
    q = _queue()
    q.take(lambda call: call == 4)
    assert [e.call for e in q.drain()] == [2, 1, 3, 5]
    assert len(q) == 0 and q.expired(1e9) == [] and q.drain() == []


def test_what_is_kept_of_taken_calls_is_let_go_once_their_deadline_passes() -> None:
    """Memory does not grow over a year of calls: a call a unit took is remembered only until
    its deadline comes round in the heap of deadlines (the queue's private bookkeeping)."""
    q = WaitingCalls()
    for k in range(1000):
        q.add(call=k, rank=k % 3, now=float(k), deadline=k + 10.0)
        assert q.take(lambda call: call % 2 == 0) is not None or k % 2 == 1
        q.expired(float(k))
    q.expired(2000.0)
    assert len(q) == 0 and not q._gone and not q._deadlines
