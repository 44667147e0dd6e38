"""A city identity provider for tests: OpenID Connect discovery, an authorization endpoint
that signs in whoever the test says (no page), a token endpoint that checks the client and
the PKCE verifier, and ID tokens signed with its own RSA key."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

from tests.support.serving import InThread

CLIENT_ID = "hotline12345"
CLIENT_SECRET = "idp-client-secret"


class Provider:
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.person: dict[str, Any] = {}  # the claims of whoever signs in next
        self.codes: dict[str, dict[str, Any]] = {}
        self.tamper: dict[str, Any] = {}  # claims to override in the ID token (tests of refusal)
        self.app = self._build()

    def settings(self) -> dict[str, Any]:
        """The suite's settings for this provider."""
        return {
            "oidc_issuer": self.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": CLIENT_SECRET,
            "oidc_roles": {
                "12345-clerk": "unit",
                "12345-agent": "agent",
                "12345-dispatch": "dispatcher",
            },
        }

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.person,
            **self.tamper,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "idp-1"})

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
            }

        @app.get("/jwks")
        async def keys() -> dict[str, Any]:
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return {"keys": [{**public, "kid": "idp-1", "alg": "RS256", "use": "sig"}]}

        @app.get("/authorize")
        async def authorize(request: Request) -> RedirectResponse:
            q = request.query_params
            assert q["client_id"] == CLIENT_ID and q["code_challenge_method"] == "S256"
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "nonce": q["nonce"],
                "challenge": q["code_challenge"],
                "redirect_uri": q["redirect_uri"],
            }
            back = urlencode({"code": code, "state": q["state"]})
            return RedirectResponse(f"{q['redirect_uri']}?{back}", status_code=302)

        @app.post("/token", response_model=None)
        async def token(
            request: Request,
            code: str = Form(),
            code_verifier: str = Form(),
            redirect_uri: str = Form(),
        ) -> dict[str, Any] | JSONResponse:
            credentials = base64.b64decode(request.headers["authorization"].split()[1]).decode()
            issued = self.codes.pop(code, None)
            digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
            if (
                credentials != f"{CLIENT_ID}:{CLIENT_SECRET}"
                or issued is None
                or digest.rstrip(b"=").decode() != issued["challenge"]
                or redirect_uri != issued["redirect_uri"]
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            return {
                "access_token": "opaque",
                "token_type": "Bearer",
                "id_token": self._id_token(issued["nonce"]),
            }

        return app


class Served:
    """The provider on a real port, in a thread of the test process."""

    def __init__(self, port: int) -> None:
        self.provider = Provider(f"http://127.0.0.1:{port}")
        self.running = InThread(self.provider.app, port)

    def __enter__(self) -> Provider:
        self.running.__enter__()
        return self.provider

    def __exit__(self, *_: object) -> None:
        self.running.__exit__()
