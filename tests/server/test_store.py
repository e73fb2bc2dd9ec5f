"""The SQLite store: per-session seq, idempotent client ids, durability across reopen."""

from __future__ import annotations

import sqlite3

import pytest

from chatops_widget.server.store import Store


def test_seq_is_per_session_and_survives_reopen(tmp_path):
    path = tmp_path / "chatops.sqlite3"
    store = Store(path)
    assert [store.append("session_a", "user", f"a{i}")[0].seq for i in range(3)] == [1, 2, 3]
    assert store.append("session_b", "assistant", "b0", {"x": 1})[0].seq == 1
    store.close()

    again = Store(path)
    assert again.last_seq("session_a") == 3 and again.last_seq("session_missing") == 0
    assert [m.content for m in again.messages_after("session_a", 1)] == ["a1", "a2"]
    (b,) = again.messages_after("session_b")
    assert (b.role, b.metadata, b.timestamp.tzinfo is not None) == ("assistant", {"x": 1}, True)
    assert again.append("session_a", "user", "a3")[0].seq == 4
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_client_message_id_is_idempotent_per_session(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    first, created = store.append("session_a", "user", "hi", client_message_id="c1")
    again, created_again = store.append("session_a", "user", "hi", client_message_id="c1")
    assert created and not created_again and again == first
    other, created_other = store.append("session_b", "user", "hi", client_message_id="c1")
    assert created_other and other.seq == 1
    assert store.last_seq("session_a") == 1


def test_sessions_are_listed_with_names(tmp_path):
    store = Store(tmp_path / "db.sqlite3")
    store.ensure_session("session_1", "research")
    store.ensure_session("session_1", "ignored: the first name stays")
    store.append("session_2", "user", "x")
    rows = {s["id"]: s for s in store.sessions()}
    assert rows["session_1"]["name"] == "research" and rows["session_2"]["lastSeq"] == 1


def test_update_replaces_content_in_place_and_survives_reopen(tmp_path):
    path = tmp_path / "db.sqlite3"
    store = Store(path)
    msg, _ = store.append("session_a", "assistant", "Hel", {"streaming": True})
    store.append("session_a", "user", "next")
    updated = store.update("session_a", msg.id, "Hello", {"streaming": False})
    assert (updated.id, updated.seq, updated.content) == (msg.id, 1, "Hello")
    store.close()
    first, second = Store(path).messages_after("session_a")
    assert (first.content, first.metadata, second.content) == (
        "Hello",
        {"streaming": False},
        "next",
    )
    with pytest.raises(KeyError, match="no message"):
        Store(path).update("session_a", "msg_missing", "x", {})
