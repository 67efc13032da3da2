"""With KUBESKIPPY_OIDC_AUDIENCE set, only requests with a valid token for that audience pass."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kubeskippy.events.cloudevents import CloudEvent, encode
from kubeskippy.serving import FunctionApp
from tests.harness.scripted_http import Reply, ScriptedServer

AUDIENCE = "serving.knative.dev/service/kubeskippy/kubeskippy-detect"


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks(signing_key):
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()
    with ScriptedServer(default=Reply(200, body, (("content-type", "application/json"),))) as server:
        yield server


def token(key, *, audience=AUDIENCE, expires_in=300, kid="k1"):
    now = int(time.time())
    return jwt.encode({"aud": audience, "iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:"
                       "knative-eventing:mt-broker-filter", "iat": now, "exp": now + expires_in},
                      key, algorithm="RS256", headers={"kid": kid})


class Quiet:
    def handle(self, event):
        return []


async def status_with(jwks_server, authorization: str | None) -> int:
    app = FunctionApp("detect", lambda cfg: (Quiet(), []))
    app.start({"KUBESKIPPY_OIDC_AUDIENCE": AUDIENCE, "KUBESKIPPY_OIDC_JWKS_URL": jwks_server.url + "/jwks",
               "KUBESKIPPY_OIDC_ISSUER": "https://kubernetes.default.svc"})
    headers, body = encode(CloudEvent({"id": "1", "source": "/s", "type": "t", "specversion": "1.0"}, {"a": 1}))
    if authorization:
        headers["authorization"] = authorization
    transport = httpx.ASGITransport(app=app.handle)
    async with httpx.AsyncClient(transport=transport, base_url="http://fn") as client:
        return (await client.post("/", content=body, headers=headers)).status_code


async def test_a_valid_token_for_our_audience_is_accepted(jwks, signing_key):
    assert await status_with(jwks, "Bearer " + token(signing_key)) == 202


@pytest.mark.parametrize("make", [
    pytest.param(lambda key: None, id="no-token"),
    pytest.param(lambda key: "Bearer " + token(key, audience="someone-else"), id="wrong-audience"),
    pytest.param(lambda key: "Bearer " + token(key, expires_in=-3600), id="expired"),
    pytest.param(lambda key: "Bearer " + token(key, kid="unknown"), id="unknown-key"),
    pytest.param(lambda key: "Bearer " + token(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
                 id="forged-signature"),
    pytest.param(lambda key: "Basic dXNlcjpwYXNz", id="not-bearer"),
])
async def test_requests_without_a_valid_token_get_401(jwks, signing_key, make):
    assert await status_with(jwks, make(signing_key)) == 401
