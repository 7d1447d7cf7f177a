"""The store's chunked group buckets behave as the plain creation-ordered dicts they replace,
and a bucket once handed out never changes (the read-safety rule of ``store.py``)."""

from __future__ import annotations

import random

from taskrouter_sandbox.buckets import CHUNK, Bucket, Draft, chunked
from taskrouter_sandbox.models import Record, Task


def _task(sid: str, version: int = 0) -> Record:
    return Task(sid=sid, account_sid="AC", date_created=0.0, date_updated=0.0, version=version)


def test_random_changes_match_a_plain_ordered_dict_and_snapshots_stay_as_they_were() -> None:
    rng = random.Random(20)
    seqs: dict[str, int] = {}
    reference: dict[str, Record] = {}
    bucket = chunked({}, seqs.__getitem__)
    snapshots: list[tuple[object, list[tuple[str, Record]]]] = []
    next_seq, moved = 1, 0
    for commit in range(400):
        draft = Draft(bucket, seqs.__getitem__)
        for _ in range(rng.choice((1, 3, 40))):
            roll = rng.random()
            if roll < 0.6 or not reference:  # a new record: the usual append at the end
                sid = f"WT{next_seq:032d}"
                seqs[sid], next_seq = next_seq * 1000, next_seq + 1
                record = _task(sid)
            elif roll < 0.8:  # an existing record changes
                sid = rng.choice(list(reference))
                record = _task(sid, version=commit)
            elif roll < 0.9:  # an older record moves in from another bucket (seqs are unique)
                moved += 1
                sid = f"WT{moved:032d}x"
                seqs[sid] = rng.randrange(1, next_seq) * 1000 + moved
                record = _task(sid)
            else:
                sid = rng.choice(list(reference))
                draft.pop(sid)
                del reference[sid]
                continue
            draft.put(sid, record)
            reference[sid] = record
        snapshots.append((bucket, list(bucket.items())))
        built = draft.finish()
        bucket = built if built is not None else {}
        expected = sorted(reference.items(), key=lambda kv: seqs[kv[0]])
        assert list(bucket.items()) == expected
        assert list(bucket.values()) == [r for _, r in expected]
        assert len(bucket) == len(expected)
        for sid, record in expected[:: max(len(expected) // 7, 1)]:
            assert sid in bucket and bucket[sid] is record
    assert isinstance(bucket, Bucket) and len(bucket) > CHUNK  # the chunked form was exercised
    assert moved < 1000  # the moved records' seqs stayed unique
    for old, items in snapshots:  # copy-on-write: nothing handed out was changed since
        assert list(old.items()) == items  # type: ignore[attr-defined]


def test_a_write_copies_one_chunk_not_the_whole_bucket() -> None:
    seqs = {f"WT{i:032d}": i for i in range(CHUNK * 20)}
    bucket = chunked({sid: _task(sid) for sid in seqs}, seqs.__getitem__)
    assert isinstance(bucket, Bucket)
    draft = Draft(bucket, seqs.__getitem__)
    middle = f"WT{CHUNK * 10 + 3:032d}"
    draft.put(middle, _task(middle, version=1))
    after = draft.finish()
    assert isinstance(after, Bucket)
    shared = [a is b for a, b in zip(bucket._chunks, after._chunks, strict=True)]
    assert shared.count(False) == 1 and not shared[10]
    assert bucket[middle].version == 0 and after[middle].version == 1  # type: ignore[attr-defined]


def _merged_reference(base: dict[str, Record], puts: dict[str, Record], deletes: set[str],
                      attr: str, value: str) -> list[tuple[str, Record]]:  # fmt: skip
    """What Transaction.group returned when it copied the bucket: the definition."""
    merged = {sid: puts.get(sid, r) for sid, r in base.items() if sid not in deletes}
    for sid, record in puts.items():
        if type(record) is Task and getattr(record, attr, None) == value:
            merged.setdefault(sid, record)
    return list(merged.items())


def test_a_transactions_view_of_a_group_is_the_merged_copy_it_replaces() -> None:
    """Transaction.group, small buckets (a dict) and large ones (an Overlay, no copy): the
    same records in the same order as the copy, and unchanged by the writes that follow."""
    from taskrouter_sandbox.store import Store

    rng = random.Random(7)
    for size in (3, 40, CHUNK * 2 + 5):
        store = Store(None)
        with store.transaction() as tx:
            for i in range(size):
                tx.put(Task(sid=f"WT{size}-{i}", account_sid="AC", date_created=0.0,
                            date_updated=0.0, workspace_sid="WS1"))  # fmt: skip
        base = dict(store.group(Task, "workspace_sid", "WS1"))
        with store.transaction() as tx:
            assert tx.group(Task, "workspace_sid", "WS1") is store.group(
                Task, "workspace_sid", "WS1"
            )  # nothing written yet: the committed bucket itself
            for step in range(30):
                sid = rng.choice(list(base))
                roll = rng.random()
                if roll < 0.4:
                    tx.put(Task(sid=sid, account_sid="AC", date_created=0.0, date_updated=1.0,
                                workspace_sid="WS1", version=step))  # fmt: skip
                elif roll < 0.6:
                    tx.put(
                        Task(
                            sid=sid,
                            account_sid="AC",
                            date_created=0.0,
                            date_updated=1.0,
                            workspace_sid="WS2",
                        )
                    )  # moved out, still listed (as before)
                elif roll < 0.8:
                    tx.delete(base[sid])
                else:
                    tx.put(Task(sid=f"new-{size}-{step}", account_sid="AC", date_created=0.0,
                                date_updated=1.0, workspace_sid="WS1"))  # fmt: skip
                view = tx.group(Task, "workspace_sid", "WS1")
                expected = _merged_reference(base, dict(tx.puts), set(tx.deletes),
                                             "workspace_sid", "WS1")  # fmt: skip
                assert list(view.items()) == expected
                assert list(view) == [sid for sid, _ in expected]
                assert list(view.values()) == [r for _, r in expected]
                assert len(view) == len(expected)
                for sid, record in expected[:5] + expected[-5:]:
                    assert sid in view and view[sid] is record
                if expected != list(base.items()):
                    tx.put(Task(sid=f"later-{size}-{step}", account_sid="AC", date_created=0.0,
                                date_updated=2.0, workspace_sid="WS1"))  # fmt: skip
                    assert list(view.items()) == expected  # a snapshot, like the copy
            tx.deletes.clear()  # nothing to commit that would need the real rows
            tx.puts.clear()
        store.close()
