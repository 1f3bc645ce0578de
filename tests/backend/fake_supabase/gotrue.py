"""A GoTrue (Supabase Auth) peer: the endpoints supabase-py's auth client calls, with real
HS256 JWTs carrying the claims GoTrue issues (sub, role, aud, exp, email, session_id, ...).

Refresh tokens rotate as GoTrue's do (``RefreshTokenGrant``, rotation on): a sign-in opens a
session; each refresh retires the token it used and issues its child. Using a retired token
again within ``reuse_interval`` seconds (GoTrue's ``REFRESH_TOKEN_REUSE_INTERVAL``, 10 s by
default) answers with the session's current token (a client that lost the answer of its own
refresh); after it, GoTrue takes the reuse for theft and revokes the whole session: every
refresh token of it then fails with ``refresh_token_already_used``.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt

from tests.backend.fake_supabase.httpserver import HttpRequest, HttpResponse

JWT_SECRET = "fake-supabase-jwt-secret-at-least-32-bytes-long"


@dataclass
class AuthSession:
    """One sign-in: its refresh tokens form a family; ``current`` is the one not yet used."""

    id: str
    user_id: str
    current: str
    revoked: bool = False


@dataclass
class RefreshToken:
    session_id: str
    used_at: float | None = None


@dataclass
class User:
    id: str
    email: str
    password: str
    user_metadata: dict[str, Any] = field(default_factory=dict)


def make_token(
    user_id: str | None,
    *,
    role: str = "authenticated",
    email: str | None = None,
    expires_in: int = 3600,
    session_id: str | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "fake-supabase/auth/v1",
        "aud": "authenticated" if role == "authenticated" else role,
        "exp": now + expires_in,
        "iat": now,
        "role": role,
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now}],
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "is_anonymous": False,
        # Two tokens issued within one second differ (a refresh right after a sign-in is new).
        "jti": str(uuid.uuid4()),
    }
    if user_id is not None:
        claims["sub"] = user_id
        claims["session_id"] = session_id or str(uuid.uuid4())
    if email is not None:
        claims["email"] = email
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


ANON_KEY = make_token(None, role="anon", expires_in=10 * 365 * 24 * 3600)


def decode_token(token: str) -> dict[str, Any]:
    """Claims of a valid token; raises jwt.InvalidTokenError (incl. expired)."""
    return jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience=["authenticated", "anon"])


class FakeGoTrue:
    """Users, one-time codes and refresh tokens in memory; ``on_signup`` may persist a new
    user elsewhere (the database-backed fake inserts it into auth.users)."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.codes: dict[str, str] = {}  # email -> code sent
        self.sessions: dict[str, AuthSession] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.revoked: list[str] = []
        #: Every sign-out answered: (user id, scope).
        self.logouts: list[tuple[str, str]] = []
        self.access_expires_in = 3600
        self.reuse_interval = 10.0
        #: Every refresh answered: (refresh token sent, outcome) with outcome "rotated",
        #: "reused" (the current token handed back within the grace) or an error code.
        self.refresh_log: list[tuple[str, str]] = []
        self.on_signup: Callable[[User], Awaitable[None]] | None = None
        self.confirm_signups = True

    def add_user(self, email: str, password: str, user_id: str | None = None) -> User:
        user = User(id=user_id or str(uuid.uuid4()), email=email, password=password)
        self.users[email] = user
        return user

    def _by_id(self, user_id: str) -> User | None:
        return next((u for u in self.users.values() if u.id == user_id), None)

    def _user_json(self, user: User) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        return {
            "id": user.id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": user.email,
            "email_confirmed_at": now,
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": user.user_metadata,
            "identities": [],
            "created_at": now,
            "updated_at": now,
            "is_anonymous": False,
        }

    def _session(self, user: User, auth_session: AuthSession | None = None) -> dict[str, Any]:
        """A new session (sign-in), or the tokens of ``auth_session`` as they are now."""
        if auth_session is None:
            refresh = secrets.token_urlsafe(16)
            auth_session = AuthSession(str(uuid.uuid4()), user.id, refresh)
            self.sessions[auth_session.id] = auth_session
            self.refresh_tokens[refresh] = RefreshToken(auth_session.id)
        refresh = auth_session.current
        expires_in = self.access_expires_in
        return {
            "access_token": make_token(
                user.id, email=user.email, expires_in=expires_in, session_id=auth_session.id
            ),
            "token_type": "bearer",
            "expires_in": expires_in,
            "expires_at": int(time.time()) + expires_in,
            "refresh_token": refresh,
            "user": self._user_json(user),
        }

    @staticmethod
    def _error(status: int, code: str, message: str) -> HttpResponse:
        return HttpResponse(
            status,
            {"code": status, "error_code": code, "msg": message},
            {"X-Supabase-Api-Version": "2024-01-01"},
        )

    async def handle(self, request: HttpRequest, path: str) -> HttpResponse:
        body = request.json() or {}
        if request.method == "POST" and path == "token":
            grant = request.param("grant_type")
            if grant == "password":
                user = self.users.get(str(body.get("email")))
                if user is None or user.password != body.get("password"):
                    return self._error(400, "invalid_credentials", "Invalid login credentials")
                return HttpResponse(200, self._session(user))
            if grant == "refresh_token":
                return self._refresh(str(body.get("refresh_token")))
            return self._error(400, "validation_failed", "unsupported grant_type")
        if request.method == "POST" and path == "signup":
            email, password = str(body.get("email")), str(body.get("password"))
            if email in self.users:
                return self._error(422, "user_already_exists", "User already registered")
            user = self.add_user(email, password)
            user.user_metadata = dict(body.get("data") or {})
            if self.on_signup is not None:
                await self.on_signup(user)
            if not self.confirm_signups:
                return HttpResponse(200, self._user_json(user))
            return HttpResponse(200, self._session(user))
        if request.method == "POST" and path == "otp":
            email = str(body.get("email"))
            if email not in self.users and not body.get("create_user"):
                return self._error(422, "otp_disabled", "Signups not allowed for otp")
            self.codes[email] = f"{secrets.randbelow(10**6):06d}"
            return HttpResponse(200, {})
        if request.method == "POST" and path == "verify":
            email = str(body.get("email"))
            if body.get("type") != "email" or self.codes.get(email) != body.get("token"):
                return self._error(403, "otp_expired", "Token has expired or is invalid")
            del self.codes[email]
            return HttpResponse(200, self._session(self.users[email]))
        if request.method == "POST" and path == "logout":
            return self._logout(request)
        if request.method == "GET" and path == "user":
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            try:
                claims = decode_token(token)
            except jwt.InvalidTokenError:
                return self._error(401, "bad_jwt", "invalid JWT")
            found = self._by_id(str(claims.get("sub")))
            if found is None:
                return self._error(404, "user_not_found", "User not found")
            return HttpResponse(200, self._user_json(found))
        return self._error(404, "not_found", f"no such endpoint {path}")

    def _logout(self, request: HttpRequest) -> HttpResponse:
        """GoTrue's ``Logout``: a valid access token is required (403 ``bad_jwt`` otherwise,
        an expired one too); ``scope=local`` ends its session (every refresh token of it),
        ``global`` (the default) every session of the user, ``others`` all but this one."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        try:
            claims = decode_token(token)
        except jwt.InvalidTokenError:
            return self._error(403, "bad_jwt", "invalid JWT: unable to parse or verify token")
        scope = request.param("scope") or "global"
        if scope not in ("local", "global", "others"):
            return self._error(400, "validation_failed", "unsupported logout scope")
        self.revoked.append(token)
        self.logouts.append((str(claims.get("sub")), scope))
        mine = str(claims.get("session_id"))
        for auth_session in self.sessions.values():
            if auth_session.user_id != claims.get("sub"):
                continue
            if (scope == "local" and auth_session.id == mine) or (
                scope == "global" or (scope == "others" and auth_session.id != mine)
            ):
                auth_session.revoked = True
        return HttpResponse(204)

    def _refresh(self, token: str) -> HttpResponse:
        found = self.refresh_tokens.get(token)
        auth_session = self.sessions.get(found.session_id) if found is not None else None
        user = self._by_id(auth_session.user_id) if auth_session is not None else None
        if found is None or auth_session is None or user is None:
            self.refresh_log.append((token, "refresh_token_not_found"))
            return self._error(
                400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found"
            )
        if auth_session.revoked:
            self.refresh_log.append((token, "refresh_token_already_used"))
            return self._error(
                400, "refresh_token_already_used", "Invalid Refresh Token: Already Used"
            )
        now = time.monotonic()
        if found.used_at is not None:
            if now - found.used_at > self.reuse_interval:
                auth_session.revoked = True  # RevokeTokenFamily
                self.refresh_log.append((token, "refresh_token_already_used"))
                return self._error(
                    400, "refresh_token_already_used", "Invalid Refresh Token: Already Used"
                )
            self.refresh_log.append((token, "reused"))
            return HttpResponse(200, self._session(user, auth_session))
        found.used_at = now
        child = secrets.token_urlsafe(16)
        self.refresh_tokens[child] = RefreshToken(auth_session.id)
        auth_session.current = child
        self.refresh_log.append((token, "rotated"))
        return HttpResponse(200, self._session(user, auth_session))

    def backdate_use(self, token: str, seconds: float) -> None:
        """Pretend ``token`` was used ``seconds`` earlier than it was (past the grace)."""
        found = self.refresh_tokens[token]
        assert found.used_at is not None, "that refresh token was never used"
        found.used_at -= seconds
