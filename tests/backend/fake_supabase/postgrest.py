"""A PostgREST peer backed by a real PostgreSQL database.

It translates the subset of PostgREST requests DevSync sends into SQL and runs each request in
one transaction with PostgREST's impersonation (``set_config('role', …)``,
``set_config('request.jwt.claims', …)`` and ``set_config('request.headers', …)`` — every
request header, names lowercase, as a JSON object — all transaction-local), so RLS, the RPCs
and the machine token header decide exactly as on Supabase. Like PostgREST, a GET and an RPC
to a function that is not volatile run read-only. Errors come back as PostgREST's JSON body
with its HTTP status.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import jwt
import psycopg
from psycopg import sql

from tests.backend.fake_supabase.gotrue import ANON_KEY, decode_token
from tests.backend.fake_supabase.httpserver import HttpRequest, HttpResponse

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_OPS = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "like": "like",
    "ilike": "ilike",
}
_RESERVED = {"select", "order", "limit", "offset", "or", "on_conflict", "columns"}


class RequestError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def ident(name: str) -> sql.Identifier:
    if not _IDENT.match(name):
        raise RequestError(400, "PGRST100", f"bad identifier {name!r}")
    return sql.Identifier(name)


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside parentheses and double quotes."""
    parts, depth, quoted, cur = [], 0, False, []
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == sep:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def condition(column: str, expr: str) -> tuple[sql.Composable, list[Any]]:
    """``column`` + PostgREST operator expression (``eq.x``, ``in.(a,b)``, ``not.is.null``)."""
    negate = expr.startswith("not.")
    if negate:
        expr = expr[4:]
    op, _, value = expr.partition(".")
    col = ident(column)
    params: list[Any] = []
    if op in _OPS:
        if op in ("like", "ilike"):
            value = value.replace("*", "%")
        clause: sql.Composable = sql.SQL("{} {} %s").format(col, sql.SQL(_OPS[op]))
        params.append(_unquote(value))
    elif op == "in":
        items = [_unquote(v) for v in split_top(value.strip("()"))] if value.strip("()") else []
        if not items:
            clause = sql.SQL("false")
        else:
            clause = sql.SQL("{} in ({})").format(
                col, sql.SQL(", ").join([sql.SQL("%s")] * len(items))
            )
            params.extend(items)
    elif op == "is":
        literal = {"null": "null", "true": "true", "false": "false"}.get(value.lower())
        if literal is None:
            raise RequestError(400, "PGRST100", f"bad is value {value!r}")
        clause = sql.SQL("{} is " + literal).format(col)
    else:
        raise RequestError(400, "PGRST100", f"unsupported operator {op!r}")
    if negate:
        clause = sql.SQL("not ({})").format(clause)
    return clause, params


def where_clause(request: HttpRequest) -> tuple[sql.Composable, list[Any]]:
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    for key, value in request.query:
        if key == "or":
            parts = []
            for item in split_top(value.strip()[1:-1]):
                column, _, expr = item.partition(".")
                clause, p = condition(column, expr)
                parts.append(clause)
                params.extend(p)
            clauses.append(sql.SQL("({})").format(sql.SQL(" or ").join(parts)))
        elif key not in _RESERVED:
            clause, p = condition(key, value)
            clauses.append(clause)
            params.extend(p)
    if not clauses:
        return sql.SQL(""), []
    return sql.SQL(" where ") + sql.SQL(" and ").join(clauses), params


def order_clause(request: HttpRequest) -> sql.Composable:
    spec = request.param("order")
    if not spec:
        return sql.SQL("")
    items = []
    for item in spec.split(","):
        column, *mods = item.split(".")
        text = " ".join(
            {"asc": "asc", "desc": "desc", "nullsfirst": "nulls first", "nullslast": "nulls last"}[
                m
            ]
            for m in mods
        )
        items.append(sql.SQL("{} " + text).format(ident(column)))
    return sql.SQL(" order by ") + sql.SQL(", ").join(items)


def _status_for(sqlstate: str, role: str) -> int:
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    if sqlstate == "42501":
        return 401 if role == "anon" else 403
    if sqlstate in ("P0002", "42883", "42P01"):
        return 404
    if sqlstate in ("23505", "23503"):
        return 409
    if sqlstate.startswith(("22", "23", "P0")):
        return 400
    if sqlstate.startswith(("08", "53", "57")):
        return 503
    return 400


class FakePostgrest:
    """Serves ``/rest/v1/...`` from ``database_url`` (a superuser URL; it impersonates)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._lock = asyncio.Lock()
        self.down = False  # tests flip this to answer 503 like a paused project

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self.database_url)
        return self._conn

    def _claims(self, request: HttpRequest) -> dict[str, Any]:
        if request.headers.get("apikey") != ANON_KEY:
            raise RequestError(401, "PGRST301", "No API key found in request")
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        try:
            claims = decode_token(token)
        except jwt.ExpiredSignatureError:
            raise RequestError(401, "PGRST303", "JWT expired") from None
        except jwt.InvalidTokenError:
            raise RequestError(401, "PGRST301", "JWT could not be decoded") from None
        return claims

    async def handle(self, request: HttpRequest, path: str) -> HttpResponse:
        if self.down:
            return HttpResponse(503, {"code": "PGRST001", "message": "Database client error"})
        try:
            claims = self._claims(request)
            role = str(claims.get("role") or "anon")
            read_only = request.method == "GET"
            if path.startswith("rpc/"):
                query, params, shape, volatile = await self._rpc_query(
                    path[4:], request.json() or {}, _page(request)
                )
                read_only = read_only or not volatile
            else:
                query, params, shape = self._table_query(request, path)
        except RequestError as exc:
            return HttpResponse(
                exc.status,
                {"code": exc.code, "message": exc.message, "details": None, "hint": None},
            )
        async with self._lock:
            conn = await self._connection()
            try:
                async with conn.transaction():
                    if read_only:
                        await conn.execute("set transaction read only")
                    await conn.execute(
                        "select set_config('role', %s, true), "
                        "set_config('request.jwt.claims', %s, true), "
                        "set_config('request.headers', %s, true)",
                        (role, json.dumps(claims), json.dumps(request.headers)),
                    )
                    cur = await conn.execute(query, params)
                    row = await cur.fetchone() if cur.description else None
            except psycopg.Error as exc:
                if isinstance(exc, psycopg.OperationalError) and conn.closed:
                    return HttpResponse(503, {"code": "PGRST001", "message": str(exc)})
                diag = exc.diag
                state = diag.sqlstate or "XX000"
                if not diag.sqlstate and isinstance(exc, psycopg.DataError):
                    # psycopg refuses a NUL before sending; PostgREST's server refuses the
                    # "\u0000" of a JSON body when it becomes text, as 22P05.
                    return HttpResponse(
                        400,
                        {
                            "code": "22P05",
                            "message": "unsupported Unicode escape sequence",
                            "details": "\\u0000 cannot be converted to text.",
                            "hint": None,
                        },
                    )
                return HttpResponse(
                    _status_for(state, role),
                    {
                        "code": state,
                        "message": diag.message_primary or str(exc),
                        "details": diag.message_detail,
                        "hint": diag.message_hint,
                    },
                )
        value = row[0] if row else None
        if shape == "void":
            return HttpResponse(204)
        status = 201 if request.method == "POST" and not path.startswith("rpc/") else 200
        headers = {"Content-Range": f"0-{max(len(value) - 1, 0)}/*"} if shape == "rows" else {}
        return HttpResponse(status, json.loads(json.dumps(value)), headers)

    def _table_query(
        self, request: HttpRequest, table: str
    ) -> tuple[sql.Composable, list[Any], str]:
        target = sql.SQL("public.{}").format(ident(table))
        where, params = where_clause(request)
        wrap = sql.SQL("select coalesce(json_agg(t), '[]'::json) from ({}) t")
        if request.method == "GET":
            select = request.param("select") or "*"
            cols = (
                sql.SQL("*")
                if select == "*"
                else sql.SQL(", ").join(ident(c.strip()) for c in select.split(","))
            )
            inner = sql.SQL("select {} from {}{}{}").format(
                cols, target, where, order_clause(request)
            )
            limit, offset = request.param("limit"), request.param("offset")
            if limit is not None:
                inner += sql.SQL(" limit {}").format(sql.Literal(int(limit)))
            if offset is not None:
                inner += sql.SQL(" offset {}").format(sql.Literal(int(offset)))
            return wrap.format(inner), params, "rows"
        body = request.json()
        agg = sql.SQL("select coalesce(json_agg(w), '[]'::json) from w")
        if request.method == "POST":
            items = body if isinstance(body, list) else [body]
            columns = sorted({k for item in items for k in item})
            names = sql.SQL(", ").join(ident(c) for c in columns)
            inner = sql.SQL(
                "with w as (insert into {t} ({c}) select {c} from "
                "json_populate_recordset(null::{t}, %s::json) returning *) {agg}"
            ).format(t=target, c=names, agg=agg)
            return inner, [json.dumps(items), *params], "rows"
        if request.method == "PATCH":
            columns = sorted(body)
            names = sql.SQL(", ").join(ident(c) for c in columns)
            inner = sql.SQL(
                "with w as (update {t} set ({c}) = (select {c} from "
                "json_populate_record(null::{t}, %s::json)){w} returning *) {agg}"
            ).format(t=target, c=names, w=where, agg=agg)
            if len(columns) == 1:
                inner = sql.SQL(
                    "with w as (update {t} set {c} = (select {c} from "
                    "json_populate_record(null::{t}, %s::json)){w} returning *) {agg}"
                ).format(t=target, c=names, w=where, agg=agg)
            return inner, [json.dumps(body), *params], "rows"
        if request.method == "DELETE":
            inner = sql.SQL("with w as (delete from {t}{w} returning *) {agg}").format(
                t=target, w=where, agg=agg
            )
            return inner, params, "rows"
        raise RequestError(405, "PGRST117", f"unsupported method {request.method}")

    async def _rpc_query(
        self, fn: str, body: dict[str, Any], page: sql.Composable | None = None
    ) -> tuple[sql.Composable, list[Any], str, bool]:
        """The SQL of an RPC, its parameters, the shape of its answer, and whether the
        function is volatile (PostgREST runs the others read-only)."""
        async with self._lock:
            conn = await self._connection()
            cur = await conn.execute(
                "select p.proretset, t.typtype, t.typname, p.provolatile = 'v', "
                # the names of the array-typed arguments: PostgREST sends them a JSON array
                "  array(select a.name from unnest(p.proargnames, "
                "          coalesce(p.proallargtypes, p.proargtypes::oid[])) a(name, type) "
                "        join pg_type at on at.oid = a.type where at.typcategory = 'A') "
                "from pg_proc p "
                "join pg_type t on t.oid = p.prorettype "
                "join pg_namespace n on n.oid = p.pronamespace "
                "where n.nspname = 'public' and p.proname = %s",
                (fn,),
            )
            found = await cur.fetchone()
            await conn.rollback()
        if found is None:
            raise RequestError(404, "PGRST202", f"Could not find the function public.{fn}")
        retset, typtype, typname, volatile, array_args = found
        args = sql.SQL(", ").join(sql.SQL("{} => %s").format(ident(k)) for k in body)
        params = [
            _array_arg(v) if k in array_args and isinstance(v, list) else _arg(v)
            for k, v in body.items()
        ]
        call = sql.SQL("public.{}({})").format(ident(fn), args)
        if retset:
            # a page reads the rows as a table (a set of scalars is not paged by DevSync)
            source = call if page is None else sql.SQL("(select * from {}{})").format(call, page)
            return (
                sql.SQL("select coalesce(json_agg(r), '[]'::json) from {} r").format(source),
                params,
                "rows",
                volatile,
            )
        if typname == "void":
            return sql.SQL("select {}").format(call), params, "void", volatile
        if typtype == "c":
            return sql.SQL("select to_json(r) from {} r").format(call), params, "object", volatile
        return sql.SQL("select to_json({})").format(call), params, "scalar", volatile


def _page(request: HttpRequest) -> sql.Composable | None:
    """?limit=&offset= (supabase-py's ``range``) on a set-returning RPC, as PostgREST does."""
    limit, offset = request.param("limit"), request.param("offset")
    if limit is None and offset is None:
        return None
    page: sql.Composable = sql.SQL("")
    if limit is not None:
        page += sql.SQL(" limit {}").format(sql.Literal(int(limit)))
    if offset is not None:
        page += sql.SQL(" offset {}").format(sql.Literal(int(offset)))
    return page


def _array_arg(value: list[Any]) -> str:
    """A JSON array for an array-typed argument, as a Postgres array literal."""
    items = ",".join(
        "NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in value
    )
    return "{" + items + "}"


def _arg(value: Any) -> str | None:
    """RPC arguments travel as untyped text so Postgres casts them to the parameter types."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
