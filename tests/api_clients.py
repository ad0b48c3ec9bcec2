"""Callers of the Mastodon API for tests: an app, user tokens with chosen scopes, requests.

Tokens are made with django-oauth-toolkit's own model helpers (stored hashed, as the
token endpoint stores them); test_api_accounts.py also goes through the full OAuth flow.
"""

import json
from dataclasses import dataclass

from django.test import Client

from accounts.api.tokens import issue_user_token
from accounts.models import OAuthApplication


def make_app(scopes: str = "read write follow push") -> OAuthApplication:
    return OAuthApplication.objects.create(
        name="Test app",
        redirect_uris="urn:ietf:wg:oauth:2.0:oob",
        client_type=OAuthApplication.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthApplication.GRANT_AUTHORIZATION_CODE,
        scopes=scopes,
    )


@dataclass
class Api:
    """A client sending one bearer token (or none) and JSON bodies."""

    token: str | None = None

    def __post_init__(self):
        self.client = Client()

    def headers(self, extra=None) -> dict:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        return headers | (extra or {})

    def get(self, path, params=None, **extra):
        return self.client.get(path, params or {}, **self.headers(extra))

    def post(self, path, body=None, **extra):
        return self.client.post(path, json.dumps(body or {}), content_type="application/json", **self.headers(extra))

    def put(self, path, body=None, **extra):
        return self.client.put(path, json.dumps(body or {}), content_type="application/json", **self.headers(extra))

    def patch(self, path, body=None, **extra):
        return self.client.patch(path, json.dumps(body or {}), content_type="application/json", **self.headers(extra))

    def delete(self, path, **extra):
        return self.client.delete(path, **self.headers(extra))

    def call(self, method: str, path: str, body=None):
        if method == "GET":
            return self.get(path, body)
        if method == "DELETE":
            return self.delete(path)
        return getattr(self, method.lower())(path, body)


def api_for(user, scope: str = "read write follow push", app: OAuthApplication | None = None) -> Api:
    app = app or make_app()
    return Api(issue_user_token(app, user, scope).access_token)


def app_token(app: OAuthApplication, scope: str = "read write") -> Api:
    """The app's own token (client credentials): no user behind it."""
    return Api(issue_user_token(app, None, scope).access_token)
