"""Optional OIDC token verification of incoming requests (Knative Eventing's OIDC feature).

When Knative's ``authentication-oidc`` feature is on, the Broker sends every delivery with an
``Authorization: Bearer <JWT>`` whose audience is the subscriber's. With
KUBESKIPPY_OIDC_AUDIENCE set, a function accepts only requests carrying a token that is signed
by a key of the cluster's issuer (JWKS), not expired, and for that audience; anything else is
answered 401 (the Broker does not retry 401: it dead-letters).

==============================  ==========================================================
KUBESKIPPY_OIDC_AUDIENCE        the audience to require (enables verification)
KUBESKIPPY_OIDC_ISSUER          expected ``iss`` (default: not checked)
KUBESKIPPY_OIDC_JWKS_URL        default https://kubernetes.default.svc/openid/v1/jwks
KUBESKIPPY_OIDC_CA_FILE         CA bundle for the JWKS URL (default: the service account's)
KUBESKIPPY_OIDC_TOKEN_FILE      bearer token to fetch the JWKS (default: the service account's)
==============================  ==========================================================
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from ..errors import PermanentError, TemporaryError

__all__ = ["Unauthorized", "OIDCVerifier", "verifier_from_config"]

if TYPE_CHECKING:
    import jwt

SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class Unauthorized(PermanentError):
    """No valid token: answered 401 (dead-lettered by the Broker, never retried)."""

    http_status = 401


class OIDCVerifier:
    def __init__(self, audience: str, jwks_url: str, *, issuer: str | None = None, ca_file: str | None = None,
                 token_file: str | None = None, cache_seconds: float = 300.0, leeway: float = 30.0) -> None:
        self.audience = audience
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.ca_file = ca_file
        self.token_file = token_file
        self.cache_seconds = cache_seconds
        self.leeway = leeway
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def verify(self, headers: Mapping[str, str]) -> dict:
        """The token's claims; raises Unauthorized (or TemporaryError when the JWKS is unreachable)."""
        value = headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing bearer token (Knative OIDC is enabled for this function)")
        import jwt  # with OIDC on only: jwt and cryptography cost ~50 ms of every cold start

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as e:
            raise Unauthorized(f"malformed token: {e}") from None
        key = self._key(header.get("kid"))
        try:
            return jwt.decode(token, key.key, algorithms=["RS256", "ES256", "PS256"], audience=self.audience,
                              issuer=self.issuer, leeway=self.leeway,
                              options={"require": ["exp", "aud"], "verify_iss": self.issuer is not None})
        except jwt.PyJWTError as e:
            raise Unauthorized(f"token rejected: {e}") from None

    def _key(self, kid: str | None) -> jwt.PyJWK:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self.cache_seconds
            if stale or (kid not in self._keys):
                self._refresh()
            if kid is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
            if kid not in self._keys:
                raise Unauthorized(f"token signed by unknown key {kid!r}")
            return self._keys[kid]

    def _refresh(self) -> None:
        import httpx  # with OIDC on only: httpx (and the rich CLI it pulls in) costs ~0.2 s of every cold start
        import jwt

        headers = {}
        if self.token_file and Path(self.token_file).is_file():
            headers["Authorization"] = "Bearer " + Path(self.token_file).read_text().strip()
        verify: str | bool = self.ca_file if self.ca_file and Path(self.ca_file).is_file() else True
        try:
            response = httpx.get(self.jwks_url, headers=headers, verify=verify, timeout=5)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(json.loads(response.content)).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as e:
            raise TemporaryError(f"cannot read the OIDC keys at {self.jwks_url}: {e}", delay=5) from e
        self._keys = {k.key_id: k for k in keys}
        self._fetched_at = time.monotonic()


def verifier_from_config(cfg: Mapping[str, str]) -> OIDCVerifier | None:
    audience = cfg.get("KUBESKIPPY_OIDC_AUDIENCE")
    if not audience:
        return None
    return OIDCVerifier(
        audience,
        cfg.get("KUBESKIPPY_OIDC_JWKS_URL") or "https://kubernetes.default.svc/openid/v1/jwks",
        issuer=cfg.get("KUBESKIPPY_OIDC_ISSUER") or None,
        ca_file=cfg.get("KUBESKIPPY_OIDC_CA_FILE") or str(SA_DIR / "ca.crt"),
        token_file=cfg.get("KUBESKIPPY_OIDC_TOKEN_FILE") or str(SA_DIR / "token"),
    )
