"""Local D1 (edgekv.runtime.d1) on a real SQLite file; texts from workerd d1-api.ts."""

from __future__ import annotations

import pytest

from edgekv.runtime.d1 import D1Database
from edgekv.runtime.ffi import JsException


async def test_prepare_bind_all_first_raw_batch_exec(tmp_path) -> None:
    # python-workers-examples 04-query-d1: results = await env.DB.prepare(q).all(); results.results[0]
    db = D1Database(tmp_path / "d1" / "quotes.sqlite3")
    try:
        done = await db.exec("CREATE TABLE q (quote TEXT, author TEXT);\nSELECT 1;")
        assert done.count == 2
        run = await db.prepare("INSERT INTO q VALUES (?, ?)").bind("hi", "me").run()
        assert run.success is True and run.meta.changes == 1 and run.meta.last_row_id == 1
        result = await db.prepare("SELECT quote, author FROM q").all()
        assert result.results[0].quote == "hi"
        assert result.to_py() == {"success": True, "meta": result.meta.to_py(),
                                  "results": [{"quote": "hi", "author": "me"}]}
        assert await db.prepare("SELECT author FROM q").first("author") == "me"
        assert await db.prepare("SELECT author FROM q WHERE 0").first() is None
        with pytest.raises(JsException, match=r"^D1_COLUMN_NOTFOUND: Column not found \(x\)$"):
            await db.prepare("SELECT author FROM q").first("x")
        assert await db.prepare("SELECT quote, author FROM q").raw(columnNames=True) == [
            ["quote", "author"], ["hi", "me"]]
        with pytest.raises(JsException, match=r"^D1_ERROR: no such table: nope: SQLITE_ERROR$"):
            await db.prepare("SELECT * FROM nope").all()
        # batch is atomic: the failing second statement undoes the first.
        with pytest.raises(JsException, match="D1_ERROR"):
            await db.batch([db.prepare("INSERT INTO q VALUES ('a', 'b')"),
                            db.prepare("INSERT INTO nope VALUES (1)")])
        assert await db.prepare("SELECT count(*) AS n FROM q").first("n") == 1
    finally:
        db.close()
    assert (tmp_path / "d1" / "quotes.sqlite3").exists()
