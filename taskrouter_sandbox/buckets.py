"""The store's group buckets: immutable snapshots that are cheap to change by copy.

A bucket maps sid -> record for one group (say, the tasks of a workspace), in creation order
(the store's ``seq``). A commit never changes a bucket a reader may hold: it builds the next one
and swaps it in (``store.py``'s read-safety rules). Copying a whole dict per commit made every
task write cost time linear in the workspace's tasks (a 100k-entry copy per write at 100k tasks,
issue 20), so a large bucket is a :class:`Bucket` of chunks of about :data:`CHUNK` records: a
commit copies only the chunks it touches, plus a tuple of chunk references. A small bucket stays
a plain dict (no overhead for the many one- or two-record groups, like a task's reservations).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, ItemsView, Iterator, Mapping, ValuesView

from .models import Record

CHUNK = 512  # records per chunk: a commit copies ~CHUNK entries per chunk it touches


class Bucket(Mapping[str, Record]):
    """A read-only snapshot of a large group. ``starts[i]`` is the lowest seq chunk ``i`` may
    hold; chunks are in seq order, and so are the records within each chunk."""

    __slots__ = ("_chunks", "_size", "_starts")

    def __init__(self, chunks: tuple[dict[str, Record], ...], starts: tuple[int, ...], size: int):
        self._chunks = chunks
        self._starts = starts
        self._size = size

    def __getitem__(self, sid: str) -> Record:
        for chunk in self._chunks:
            record = chunk.get(sid)
            if record is not None:
                return record
        raise KeyError(sid)

    def find(self, sid: str, seq: int) -> Record | None:
        """The record ``sid`` created ``seq``-th, looking in the one chunk it can be in (the
        chunk :class:`Draft` put it in), not in every chunk: O(log chunks)."""
        index = max(bisect.bisect_right(self._starts, seq) - 1, 0)
        return self._chunks[index].get(sid)

    def __contains__(self, sid: object) -> bool:
        return any(sid in chunk for chunk in self._chunks)

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            yield from chunk

    def __len__(self) -> int:
        return self._size

    def values(self) -> ValuesView[Record]:
        return _Values(self)

    def items(self) -> ItemsView[str, Record]:
        return _Items(self)


class _Values(ValuesView[Record]):
    _mapping: Bucket

    def __iter__(self) -> Iterator[Record]:
        for chunk in self._mapping._chunks:
            yield from chunk.values()


class _Items(ItemsView[str, Record]):
    _mapping: Bucket

    def __iter__(self) -> Iterator[tuple[str, Record]]:
        for chunk in self._mapping._chunks:
            yield from chunk.items()


class Draft:
    """The next version of one bucket inside a commit: copies each chunk once, on first change.

    ``seq`` gives a sid's creation order (the store's, already assigned for a new record)."""

    def __init__(self, old: Mapping[str, Record], seq: Callable[[str], int]) -> None:
        self._seq = seq
        if isinstance(old, Bucket):
            self.chunks = list(old._chunks)
            self.starts = list(old._starts)
            self.size = old._size
            self._copied: set[int] = set()
        else:  # a small bucket: copied whole, as it is touched anyway
            self.chunks = [dict(old)] if old else []
            self.starts = [seq(next(iter(old)))] if old else []
            self.size = len(old)
            self._copied = {0}
        self._unsorted: set[int] = set()

    def _chunk(self, index: int) -> dict[str, Record]:
        if index not in self._copied:
            self.chunks[index] = dict(self.chunks[index])
            self._copied.add(index)
        return self.chunks[index]

    def _locate(self, seq: int) -> int:
        return max(bisect.bisect_right(self.starts, seq) - 1, 0)

    def put(self, sid: str, record: Record) -> None:
        seq = self._seq(sid)
        if not self.chunks:
            self.chunks.append({})
            self.starts.append(seq)
            self._copied.add(0)
        index = self._locate(seq)
        chunk = self.chunks[index]
        last = index == len(self.chunks) - 1
        if sid in chunk:
            self._chunk(index)[sid] = record
            return
        if last and len(chunk) >= CHUNK and seq > self._seq(next(reversed(chunk))):
            self.chunks.append({sid: record})  # the usual case: a new record, at the end
            self.starts.append(seq)
            self._copied.add(len(self.chunks) - 1)
            self.size += 1
            return
        if chunk and seq < self._seq(next(reversed(chunk))):
            self._unsorted.add(index)  # a record moved between buckets keeps creation order
        if seq < self.starts[index]:
            self.starts[index] = seq
        self._chunk(index)[sid] = record
        self.size += 1

    def pop(self, sid: str) -> None:
        if not self.chunks:
            return
        index = self._locate(self._seq(sid))
        if sid in self.chunks[index]:
            del self._chunk(index)[sid]
            self.size -= 1

    def finish(self) -> Mapping[str, Record] | None:
        """The new bucket (None when empty): a plain dict while it fits in one chunk."""
        for index in self._unsorted:
            chunk = self.chunks[index]
            self.chunks[index] = dict(sorted(chunk.items(), key=lambda kv: self._seq(kv[0])))
        kept = [(c, s) for c, s in zip(self.chunks, self.starts, strict=True) if c]
        if not kept:
            return None
        if len(kept) == 1 and self.size <= CHUNK:
            return kept[0][0]
        return Bucket(tuple(c for c, _ in kept), tuple(s for _, s in kept), self.size)


def chunked(records: dict[str, Record], seq: Callable[[str], int]) -> Mapping[str, Record]:
    """A bucket from records already in creation order (start-up)."""
    if len(records) <= CHUNK:
        return records
    items = list(records.items())
    chunks = tuple(dict(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK))
    starts = tuple(seq(next(iter(chunk))) for chunk in chunks)
    return Bucket(chunks, starts, len(items))


class Overlay(Mapping[str, Record]):
    """A bucket as one transaction sees it before commit, without copying it: ``base`` with
    the transaction's versions of some records (``changed``), some gone (``gone``) and new
    ones at the end (``added``). The three are the transaction's state when it was made, so,
    like the dict it replaces, it does not change while its reader writes."""

    __slots__ = ("_added", "_base", "_changed", "_gone")

    def __init__(self, base: Mapping[str, Record], changed: dict[str, Record],
                 gone: set[str], added: dict[str, Record]) -> None:  # fmt: skip
        self._base, self._changed, self._gone, self._added = base, changed, gone, added

    def __getitem__(self, sid: str) -> Record:
        if sid in self._gone:
            raise KeyError(sid)
        record = self._changed.get(sid) or self._added.get(sid)
        return record if record is not None else self._base[sid]

    def __contains__(self, sid: object) -> bool:
        return sid not in self._gone and (sid in self._added or sid in self._base)

    def __iter__(self) -> Iterator[str]:
        for sid, _ in self._pairs():
            yield sid

    def __len__(self) -> int:
        return len(self._base) - len(self._gone) + len(self._added)

    def _pairs(self) -> Iterator[tuple[str, Record]]:
        gone, changed = self._gone, self._changed
        for sid, record in self._base.items():
            if sid not in gone:
                yield sid, changed.get(sid, record)
        yield from self._added.items()

    def values(self) -> ValuesView[Record]:
        return _OverlayValues(self)

    def items(self) -> ItemsView[str, Record]:
        return _OverlayItems(self)


class _OverlayValues(ValuesView[Record]):
    _mapping: Overlay

    def __iter__(self) -> Iterator[Record]:
        for _, record in self._mapping._pairs():
            yield record


class _OverlayItems(ItemsView[str, Record]):
    _mapping: Overlay

    def __iter__(self) -> Iterator[tuple[str, Record]]:
        return self._mapping._pairs()
