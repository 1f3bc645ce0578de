"""A GoTrue (Supabase Auth) peer: the endpoints supabase-py's auth client calls, with real
HS256 JWTs carrying the claims GoTrue issues (sub, role, aud, exp, email, session_id, ...)."""

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
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user id
        self.revoked: list[str] = []
        self.access_expires_in = 3600
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

    def _session(self, user: User) -> dict[str, Any]:
        refresh = secrets.token_urlsafe(16)
        self.refresh_tokens[refresh] = user.id
        expires_in = self.access_expires_in
        return {
            "access_token": make_token(user.id, email=user.email, expires_in=expires_in),
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
                user_id = self.refresh_tokens.pop(str(body.get("refresh_token")), None)
                found = self._by_id(user_id) if user_id else None
                if found is None:
                    return self._error(
                        400, "refresh_token_not_found", "Invalid Refresh Token: Not Found"
                    )
                return HttpResponse(200, self._session(found))
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
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            self.revoked.append(token)
            return HttpResponse(204)
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
