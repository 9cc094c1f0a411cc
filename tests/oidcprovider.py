"""A real OpenID Connect provider on 127.0.0.1 for the test (the `oidc-provider-mock`
package: authlib's authorization server behind Flask), and what a person does there."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import httpx
import oidc_provider_mock
import pytest
import werkzeug.serving
from authlib import jose


@dataclass
class Provider:
    server: Any
    host: str = "localhost"

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.server.server_port}"

    @property
    def app(self) -> flask.Flask:
        app: flask.Flask = self.server.app
        return app

    def set_user(self, sub: str, **claims: object) -> None:
        response = httpx.put(f"{self.issuer}/users/{sub}", json=claims)
        assert response.status_code == 204, response.text

    def authorize(self, location: str, sub: str) -> str:
        """A person at the provider signs in as `sub`; the URL it sends the browser back to."""
        assert location.startswith(self.issuer), location
        with httpx.Client() as client:
            page = client.get(location)
            assert page.status_code == 200, page.text
            answer = client.post(location, data={"sub": sub})
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def _storage(self) -> Any:
        with self.app.test_request_context("/"):
            self.app.preprocess_request()
            return flask.g.oidc_provider_mock_storage

    def rotate_key(self) -> None:
        """The provider signs with a new key from now on, and publishes it."""
        self._storage().jwk = jose.RSAKey.generate_key(is_private=True)

    def sign_with_unpublished_key(self) -> None:
        """The provider signs with a key its key set does not list."""
        published = jose.KeySet([self._storage().jwk]).as_dict()
        self.app.view_functions["oidc-provider-mock.jwks"] = lambda: flask.jsonify(published)
        self.rotate_key()


@contextmanager
def running_provider(
    monkeypatch: pytest.MonkeyPatch, *, token_max_age: timedelta = timedelta(hours=1)
) -> Iterator[Provider]:
    # The provider speaks plain http on the loopback: authlib's server must be told it may.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    with oidc_provider_mock.run_server_in_thread(
        require_nonce=True, access_token_max_age=token_max_age
    ) as server:
        yield Provider(server)


@contextmanager
def provider_on_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    """The provider on 127.0.0.1 itself (a browser that may reach nothing else reaches it)."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    app = oidc_provider_mock.app(require_nonce=True)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield Provider(server, host="127.0.0.1")
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
