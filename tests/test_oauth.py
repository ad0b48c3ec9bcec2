"""OAuth2 as Mastodon apps do it: register, authorize (redirect or out-of-band), token, use, revoke."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from accounts.services import suspend_user

pytestmark = pytest.mark.django_db


def register(client, redirect_uris="tusky://oauth", scopes="read write follow"):
    body = {"client_name": "Tusky", "redirect_uris": redirect_uris, "scopes": scopes}
    response = client.post("/api/v1/apps", body, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def authorize(client, user, app, *, redirect_uri, scope="read write", **extra):
    client.force_login(user)
    params = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": redirect_uri, "scope": scope}
    params |= extra
    page = client.get("/oauth/authorize", params)
    assert page.status_code == 200, page.content
    form = page.context["form"].initial
    data = {key: value for key, value in form.items() if value is not None} | {"allow": "Authorize"}
    return client.post("/oauth/authorize?" + "&".join(f"{k}={v}" for k, v in params.items()), data)


def exchange(client, app, code, redirect_uri, **extra):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": redirect_uri,
    } | extra
    return client.post("/oauth/token", data)


def test_app_registration_returns_mastodons_application_entity(client):
    app = register(client, redirect_uris=["tusky://oauth", "urn:ietf:wg:oauth:2.0:oob"])

    assert app["name"] == "Tusky"
    assert app["redirect_uris"] == ["tusky://oauth", "urn:ietf:wg:oauth:2.0:oob"]
    assert app["scopes"] == ["read", "write", "follow"]
    assert len(app["client_id"]) >= 20 and len(app["client_secret"]) >= 40


@pytest.mark.parametrize(
    ("redirect_uris", "reason"),
    [("javascript:alert(1)", "not allowed"), ("https://x.example/cb#frag", "fragment"), ("", "required")],
)
def test_dangerous_or_malformed_redirect_uris_are_refused(client, redirect_uris, reason):
    response = client.post("/api/v1/apps", {"client_name": "Evil", "redirect_uris": redirect_uris})

    assert response.status_code in (400, 422)
    assert reason in str(response.json())


def test_unknown_scopes_are_refused(client):
    response = client.post("/api/v1/apps", {"client_name": "App", "redirect_uris": "app://cb", "scopes": "read admin"})

    assert response.status_code in (400, 422)
    assert "Unknown scopes: admin." in str(response.json())


def test_custom_scheme_redirect_without_pkce_and_a_working_token(client, user):
    app = register(client)

    redirect = authorize(client, user, app, redirect_uri="tusky://oauth")

    assert redirect.status_code == 302
    assert redirect["Location"].startswith("tusky://oauth?")
    code = parse_qs(urlsplit(redirect["Location"]).query)["code"][0]
    token = exchange(client, app, code, "tusky://oauth").json()
    assert set(token["scope"].split()) == {"read", "write"}

    client.logout()
    me = client.get(reverse("api-apps-verify"), HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    assert me.status_code == 200 and me.json()["name"] == "Tusky"
    home = client.get(reverse("api-timeline-home"), HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    assert home.status_code == 200


def test_out_of_band_shows_the_code_on_a_page(client, user):
    app = register(client, redirect_uris="urn:ietf:wg:oauth:2.0:oob")

    page = authorize(client, user, app, redirect_uri="urn:ietf:wg:oauth:2.0:oob")

    assert page.status_code == 200
    code = page.context["code"]
    assert code and code in page.content.decode()
    assert exchange(client, app, code, "urn:ietf:wg:oauth:2.0:oob").status_code == 200


def test_pkce_is_checked_when_the_app_sends_it(client, user):
    app = register(client)
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()

    redirect = authorize(
        client, user, app, redirect_uri="tusky://oauth", code_challenge=challenge, code_challenge_method="S256"
    )
    code = parse_qs(urlsplit(redirect["Location"]).query)["code"][0]

    assert exchange(client, app, code, "tusky://oauth", code_verifier="w" * 64).status_code == 400
    redirect = authorize(
        client, user, app, redirect_uri="tusky://oauth", code_challenge=challenge, code_challenge_method="S256"
    )
    code = parse_qs(urlsplit(redirect["Location"]).query)["code"][0]
    assert exchange(client, app, code, "tusky://oauth", code_verifier=verifier).status_code == 200


def test_scopes_beyond_the_apps_registration_are_refused(client, user):
    app = register(client, scopes="read")
    client.force_login(user)

    page = client.get(
        "/oauth/authorize",
        {"response_type": "code", "client_id": app["client_id"], "redirect_uri": "tusky://oauth", "scope": "write"},
    )

    assert page.status_code in (302, 400)
    if page.status_code == 302:
        assert "error=invalid_scope" in page["Location"]


def test_client_credentials_and_no_password_grant(client, user):
    app = register(client)

    app_token = client.post(
        "/oauth/token",
        {"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"]},
    )
    password = client.post(
        "/oauth/token",
        {
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": user.username,
            "password": "a-long-test-password",
        },
    )

    assert app_token.status_code == 200 and app_token.json()["access_token"]
    assert password.status_code in (400, 401)


def test_a_revoked_token_and_a_suspended_users_token_stop_working(client, user):
    app = register(client)
    redirect = authorize(client, user, app, redirect_uri="tusky://oauth")
    code = parse_qs(urlsplit(redirect["Location"]).query)["code"][0]
    token = exchange(client, app, code, "tusky://oauth").json()["access_token"]
    client.logout()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(reverse("api-timeline-home"), **bearer).status_code == 200

    suspend_user(user)
    refused = client.get(reverse("api-timeline-home"), **bearer)
    assert refused.status_code == 401
    assert refused.json()["error"] == "The access token is invalid"

    revoke = client.post(
        "/oauth/revoke", {"token": token, "client_id": app["client_id"], "client_secret": app["client_secret"]}
    )
    assert revoke.status_code == 200
    from oauth2_provider.models import AccessToken

    assert not AccessToken.objects.filter(user=user).exists()


def test_authorization_server_metadata(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json()

    assert metadata["authorization_endpoint"].endswith("/oauth/authorize")
    assert metadata["token_endpoint"].endswith("/oauth/token")
    assert metadata["revocation_endpoint"].endswith("/oauth/revoke")
    assert {"read", "write", "follow", "push", "read:statuses"} <= set(metadata["scopes_supported"])
