"""State: in memory for speed, written through to SQLite for durability.

Reads come from dictionaries; every change goes through a :class:`Transaction` that is
validated first, then committed to SQLite (WAL) in one transaction, and only then applied to
memory. So a failed request leaves nothing half-written, and an answered write survives a
``kill -9`` of the sandbox. One lock serialises writers; the engine runs under it too.

Durability policy (``docs/decisions.md``): ``synchronous=OFF`` in WAL mode. A COMMIT hands
the WAL frames to the operating system and returns without an fsync, so an answered write
survives the sandbox being killed (``kill -9``, a crash of Python) but not a crash of the
operating system or a power cut, which may lose the last moments of writes (the database
stays consistent). For a local sandbox that is the right trade: an fsync at every WAL
checkpoint made a COMMIT cost 350-500 us, a third of a task creation.

Reads are safe without the lock, by construction:

* records are immutable (``models.touch`` makes a changed copy), so a record read once never
  changes under its reader;
* :meth:`Store.get` is one dictionary lookup;
* :meth:`Store.group` hands out a bucket that is never modified again: a commit copies each
  bucket it touches (a large one only in the chunks that change, ``buckets.py``), changes the
  copy and swaps it in (copy-on-write), so a handler may iterate it while another thread
  commits; callers must treat it as read-only;
* :meth:`Store.all` (start-up, reset, the control plane) takes the lock.

A reader sees each bucket as of some commit; a handler needing several buckets consistent with
each other reads them in a :class:`Transaction` (which holds the lock).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, overload

from .buckets import Draft, Overlay, chunked
from .models import KINDS, Record, from_row

R = TypeVar("R", bound=Record)
# (puts, deletes, events) of one committed transaction
Listener = Callable[[list[Record], list[Record], list[dict[str, Any]]], None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    sid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    workspace_sid TEXT NOT NULL,
    event_date REAL NOT NULL,
    event_type TEXT NOT NULL,
    task_sid TEXT, worker_sid TEXT, reservation_sid TEXT,
    task_queue_sid TEXT, workflow_sid TEXT, task_channel TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_workspace ON events (workspace_sid, event_date);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Secondary indexes kept in memory: kind -> attribute names whose value groups records.
GROUPS: dict[str, tuple[str, ...]] = {
    "workspace": ("account_sid",),
    "worker_channel": ("workspace_sid", "worker_sid"),
    "reservation": ("workspace_sid", "task_sid", "worker_sid"),
    "call": ("workspace_sid", "task_sid", "account_sid"),
    "phone_number": ("account_sid",),
}
DEFAULT_GROUP = ("workspace_sid",)
OVERLAY_ABOVE = 32  # Transaction.group: a bucket up to this size is merged into a dict
EMPTY: dict[str, Record] = {}  # what group() returns for no records; never written to


def _compact_encoder() -> Callable[[Any], str]:
    """``json.JSONEncoder(separators=(",", ":")).encode``, the same text, calling the C encoder
    directly (``encode`` builds a new one, with a dict for circular references, per call)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator
        return json.JSONEncoder(separators=(",", ":")).encode
    default = json.JSONEncoder().default  # raises TypeError, naming the type
    encode = make(None, default, json.encoder.encode_basestring_ascii, None, ":", ",",
                  False, False, True)  # fmt: skip
    return lambda value: "".join(encode(value, 0))


_compact_json = _compact_encoder()  # records and event rows: never circular, all JSON types

EVENT_COLUMNS = (
    "sid",
    "workspace_sid",
    "event_date",
    "event_type",
    "task_sid",
    "worker_sid",
    "reservation_sid",
    "task_queue_sid",
    "workflow_sid",
    "task_channel",
)
INSERT_META = "INSERT OR REPLACE INTO meta VALUES (?, ?)"
# An upsert, not INSERT OR REPLACE: a changed record is updated in its row (REPLACE deleted
# the row and appended a new one, writing two table pages and the sid index's page to the WAL
# per record; the same stored values, about a quarter fewer WAL bytes per commit).
INSERT_RECORD = (
    "INSERT INTO records VALUES (?, ?, ?, ?) ON CONFLICT (sid) DO UPDATE"
    " SET kind = excluded.kind, seq = excluded.seq, data = excluded.data"
)
DELETE_RECORD = "DELETE FROM records WHERE sid = ?"
INSERT_EVENT = (
    f"INSERT INTO events (data, {', '.join(EVENT_COLUMNS)}) VALUES (?{', ?' * len(EVENT_COLUMNS)})"
)


class Store:
    def __init__(
        self, path: Path | None, on_fault: Callable[[str, BaseException], None] | None = None
    ) -> None:
        self.lock = threading.RLock()
        self._db = sqlite3.connect(
            str(path) if path else ":memory:", check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")  # the durability policy: see the module
        self._db.executescript(SCHEMA)
        self._records: dict[str, Record] = {}
        self._seq: dict[str, int] = {}
        self._groups: dict[tuple[str, str, str], Mapping[str, Record]] = {}
        self._next_seq = 1
        self._staged_meta: dict[str, str] = {}  # set_meta(with_next_commit=True), unwritten
        self.listeners: list[Listener] = []
        # (what, error): a listener failed after a commit; the sandbox records it and goes on
        self.on_fault = on_fault or (lambda what, error: None)
        self._load()

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(puts, deletes, events)`` after every commit, under the lock, in
        subscription order: the committed records and the event rows of the transaction.
        This is the one hook for whatever follows committed state (the routing index, event
        and assignment callbacks, an event bridge); a listener that fails is recorded via
        ``on_fault`` and the others still run."""
        self.listeners.append(listener)

    # -- reads ---------------------------------------------------------------------------

    @overload
    def get(self, sid: str) -> Record | None: ...
    @overload
    def get(self, sid: str, cls: type[R]) -> R | None: ...
    def get(self, sid: str, cls: type[Record] | None = None) -> Record | None:
        """The record ``sid``; with ``cls`` only if it is one: ``get(sid, Task) -> Task | None``."""
        record = self._records.get(sid)
        if record is None or (cls is not None and type(record) is not cls):
            return None
        return record

    def all(self, cls: type[R]) -> list[R]:
        with self.lock:  # the records dict changes in place on commit: never iterate it bare
            return [r for r in self._records.values() if type(r) is cls]

    def group(self, cls: type[R], attr: str, value: str) -> Mapping[str, R]:
        """Records of ``cls`` whose ``attr`` equals ``value``, in creation order. Read-only:
        the mapping is never changed after it is handed out (copy-on-write, see the module)."""
        return self._groups.get((cls.kind, attr, value), EMPTY)  # type: ignore[return-value]

    def meta(self, key: str, default: str | None = None) -> str | None:
        with self.lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str, *, with_next_commit: bool = False) -> None:
        """Store ``value`` under ``key``. ``with_next_commit``: write it with the next commit's
        transaction (or :meth:`flush_meta`), not in one of its own (the clock offset)."""
        with self.lock:
            if with_next_commit:
                self._staged_meta[key] = value
                return
            self._staged_meta.pop(key, None)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def flush_meta(self) -> None:
        """Write the staged meta values no commit has carried yet."""
        with self.lock:
            if self._staged_meta:
                self._db.executemany(INSERT_META, list(self._staged_meta.items()))
                self._staged_meta.clear()

    def query_events(
        self,
        where: str,
        params: Iterable[Any],
        limit: int | None = None,
        offset: int = 0,
        data_fields: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Event rows matching ``where``, oldest first; ``limit``/``offset`` page in SQL, so a
        page decodes only its own rows (a day of events is tens of thousands).

        ``data_fields``: rows cut down to ``event_type``, ``event_date_ms`` and these
        ``event_data`` fields, which SQLite extracts: statistics read every event of their
        window and need a few scalars of each, not the whole decoded row."""
        columns = "data"
        if data_fields is not None:
            if not all(f.isidentifier() for f in data_fields):  # names, never request text
                raise ValueError(f"not event_data field names: {data_fields!r}")
            paths = [f"json_extract(data, '$.event_data.{f}')" for f in data_fields]
            columns = ", ".join(["event_type", "json_extract(data, '$.event_date_ms')", *paths])
        rows = self._select_events(columns, where, params, limit, offset)
        if data_fields is None:
            return [json.loads(row[0]) for row in rows]
        return [
            {"event_type": row[0], "event_date_ms": row[1],
             "event_data": dict(zip(data_fields, row[2:], strict=True))}
            for row in rows
        ]  # fmt: skip

    def query_event_texts(
        self, where: str, params: Iterable[Any], limit: int | None = None, offset: int = 0
    ) -> list[str]:
        """Like :meth:`query_events`, each row as its stored JSON text (not decoded): a list
        page can carry it as it is."""
        return [row[0] for row in self._select_events("data", where, params, limit, offset)]

    def _select_events(
        self, columns: str, where: str, params: Iterable[Any], limit: int | None, offset: int
    ) -> list[Any]:
        sql = f"SELECT {columns} FROM events WHERE {where} ORDER BY seq"
        if limit is not None or offset:
            sql += f" LIMIT {-1 if limit is None else int(limit)} OFFSET {int(offset)}"
        with self.lock:  # one connection: never read another thread's uncommitted rows
            return self._db.execute(sql, tuple(params)).fetchall()

    # -- writes --------------------------------------------------------------------------

    def transaction(self) -> Transaction:
        return Transaction(self)

    def reset(self) -> None:
        with self.lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM events")
            self._db.execute("DELETE FROM meta WHERE key != 'clock_offset'")
            self._db.execute("COMMIT")
            self._records = {}
            self._seq.clear()
            self._groups = {}  # buckets handed out before stay as they were

    def close(self) -> None:
        with self.lock:
            self.flush_meta()
            self._db.close()

    def _commit(
        self, puts: dict[str, Record], deletes: dict[str, Record], events: list[dict[str, Any]]
    ) -> None:
        db = self._db
        seqs = self._seq
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = []
            for sid, record in puts.items():
                seq = seqs.get(sid)
                if seq is None:
                    seq = seqs[sid] = self._next_seq
                    self._next_seq += 1
                rows.append((sid, record.kind, seq, _compact_json(record.to_row())))
            event_rows = [
                (_compact_json(event["row"]), *map(event["index"].get, EVENT_COLUMNS))
                for event in events
            ]
            if rows:  # one statement for all rows, not one per row
                db.executemany(INSERT_RECORD, rows)
            if deletes:
                db.executemany(DELETE_RECORD, [(sid,) for sid in deletes])
            if event_rows:
                db.executemany(INSERT_EVENT, event_rows)
            if self._staged_meta:
                db.executemany(INSERT_META, list(self._staged_meta.items()))
            db.execute("COMMIT")
            self._staged_meta.clear()
        except BaseException:
            db.execute("ROLLBACK")
            for sid in puts:
                if sid not in self._records:
                    self._seq.pop(sid, None)
            raise
        self._apply(puts, deletes)

    def _apply(self, puts: dict[str, Record], deletes: dict[str, Record]) -> None:
        """Apply a committed change to memory: copy-on-write for every group bucket touched
        (only the chunks of it that change, see ``buckets.py``)."""
        drafts: dict[tuple[str, str, str], Draft] = {}
        seq = self._seq.__getitem__

        def bucket(key: tuple[str, str, str]) -> Draft:
            draft = drafts.get(key)
            if draft is None:
                draft = drafts[key] = Draft(self._groups.get(key, EMPTY), seq)
            return draft

        for sid, record in deletes.items():
            old = self._records.pop(sid, record)
            for attr in GROUPS.get(old.kind, DEFAULT_GROUP):
                bucket((old.kind, attr, getattr(old, attr))).pop(sid)
        for sid, record in puts.items():
            previous = self._records.get(sid)
            for attr in GROUPS.get(record.kind, DEFAULT_GROUP):
                key = (record.kind, attr, getattr(record, attr))
                if previous is not None and getattr(previous, attr) != key[2]:
                    bucket((previous.kind, attr, getattr(previous, attr))).pop(sid)
                bucket(key).put(sid, record)
            self._records[sid] = record
        for key, draft in drafts.items():
            built = draft.finish()
            if built is not None:
                self._groups[key] = built  # one atomic swap: readers see old or new, whole
            else:
                self._groups.pop(key, None)  # no empty bucket per finished task is kept
        for sid in deletes:
            self._seq.pop(sid, None)  # after the buckets: they find a record's chunk by seq

    def _load(self) -> None:
        rows = self._db.execute("SELECT sid, kind, seq, data FROM records ORDER BY seq")
        loading: dict[tuple[str, str, str], dict[str, Record]] = {}
        for sid, kind, seq, data in rows:
            if kind not in KINDS:
                continue
            record = from_row(kind, json.loads(data))
            self._records[sid] = record
            self._seq[sid] = seq
            for attr in GROUPS.get(kind, DEFAULT_GROUP):
                loading.setdefault((kind, attr, getattr(record, attr)), {})[sid] = record
            self._next_seq = seq + 1
        self._groups = {key: chunked(records, self._seq.__getitem__)
                        for key, records in loading.items()}  # fmt: skip


class Transaction:
    """A unit of work: reads see its own pending writes; nothing is applied before commit."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.puts: dict[str, Record] = {}
        self.deletes: dict[str, Record] = {}
        self.events: list[dict[str, Any]] = []
        self._written: dict[str, set[str]] = {}  # kind -> sids put (see written())
        self.after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> Transaction:
        self.store.lock.acquire()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None and (self.puts or self.deletes or self.events):
                self.store._commit(self.puts, self.deletes, self.events)
                puts, deletes = list(self.puts.values()), list(self.deletes.values())
                for listener in self.store.listeners:
                    try:  # committed already: a failing listener must not undo the answer
                        listener(list(puts), list(deletes), self.events)
                    except Exception as error:
                        name = getattr(listener, "__qualname__", repr(listener))
                        self.store.on_fault(f"after-commit listener {name} failed", error)
            if exc_type is None:
                for action in self.after_commit:
                    try:
                        action()
                    except Exception as error:
                        self.store.on_fault("an after-commit action failed", error)
        finally:
            self.store.lock.release()

    @overload
    def get(self, sid: str) -> Record | None: ...
    @overload
    def get(self, sid: str, cls: type[R]) -> R | None: ...
    def get(self, sid: str, cls: type[Record] | None = None) -> Record | None:
        if sid in self.deletes:
            return None
        record = self.puts.get(sid) or self.store._records.get(sid)  # Store.get, inlined
        if record is None or (cls is not None and type(record) is not cls):
            return None
        return record

    def group(self, cls: type[R], attr: str, value: str) -> Mapping[str, R]:
        """The committed bucket as this transaction sees it: its puts of ``cls`` (changed
        versions; new ones with ``attr == value`` at the end) and deletes applied, as of now.
        Without such a write it is the committed bucket itself, else a view over it (a task
        with hundreds of reservations is not copied for every event row)."""
        base = self.store.group(cls, attr, value)
        if not (self.puts or self.deletes):
            return base
        changed: dict[str, Record] = {}
        added: dict[str, Record] = {}
        for sid, record in self.puts.items():  # in put order, as the new ones are listed
            if type(record) is not cls:
                continue
            if sid in base:
                changed[sid] = record
            elif getattr(record, attr, None) == value:
                added[sid] = record
        gone = {sid for sid in self.deletes if sid in base}
        if not (changed or gone or added):
            return base
        if len(base) <= OVERLAY_ABOVE:  # small (a task's reservations): a dict is cheaper
            merged = {sid: changed.get(sid, r) for sid, r in base.items() if sid not in gone}
            merged.update(added)
            return merged  # type: ignore[return-value]
        return Overlay(base, changed, gone, added)  # type: ignore[return-value]

    def put(self, record: R) -> R:
        self.deletes.pop(record.sid, None)
        self.puts[record.sid] = record
        self._written.setdefault(record.kind, set()).add(record.sid)
        return record

    def written(self, cls: type[Record]) -> set[str]:
        """Sids of ``cls`` records put in this transaction (some may be deleted since): what
        a committed index cannot know yet, without scanning every pending write."""
        return self._written.get(cls.kind, set())

    def delete(self, record: Record) -> None:
        self.puts.pop(record.sid, None)
        if self.store.get(record.sid) is not None:
            self.deletes[record.sid] = record

    def emit(self, row: dict[str, Any], index: dict[str, Any]) -> None:
        self.events.append({"row": row, "index": index})
