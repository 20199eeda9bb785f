"""The raw baseline of bench/http_commands.py: the least an HTTP command can cost on these
servers. A FastAPI app on uvicorn (the settings ``reitti serve`` uses) whose ``POST
/commands`` does one INSERT of the JSON body into a table, through an asyncpg pool of the
size the services use. No authentication, no validation beyond JSON, no events.

Run by the benchmark as its own process::

    BENCH_DATABASE_URL=postgresql://... python -m bench.http_baseline --port N
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

#: names this process's sessions in pg_stat_activity (the benchmark sorts PostgreSQL's CPU by it)
APPLICATION_NAME = "bench-baseline"
TABLE = "CREATE TABLE IF NOT EXISTS bench_http_commands (id bigserial PRIMARY KEY, body jsonb NOT NULL)"
INSERT = "INSERT INTO bench_http_commands (body) VALUES ($1::jsonb) RETURNING id"


def create_app() -> FastAPI:
    url = os.environ["BENCH_DATABASE_URL"]
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # the services' pool size (runtime.db.create_pool: 1 to 10 connections)
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=10, server_settings={"application_name": APPLICATION_NAME}
        )
        await pool.execute(TABLE)
        pools.append(pool)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/commands", status_code=201)
    async def command(body: dict[str, Any]) -> dict[str, int]:
        return {"id": int(await pools[0].fetchval(INSERT, json.dumps(body)))}

    @app.exception_handler(asyncpg.PostgresError)
    async def database_error(_: Request, exc: asyncpg.PostgresError) -> JSONResponse:
        return JSONResponse({"detail": type(exc).__name__}, status_code=503)

    return app


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.http_baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # as reitti.cli.serve runs the services: a factory, the default loop and HTTP (uvloop and
    # httptools, from uvicorn[standard]), the access log on at level info
    uvicorn.run(
        "bench.http_baseline:create_app", factory=True, host=args.host, port=args.port, log_level="info"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
