"""OAuth2 as Mastodon apps use it, on django-oauth-toolkit.

What the toolkit's defaults refuse and Mastodon apps send: the out-of-band redirect
(`urn:ietf:wg:oauth:2.0:oob`, the code shown on a page), custom schemes (`tusky://`),
authorization without PKCE. And what bearer authentication does not check by itself:
whether the token's user is still allowed in (suspension).
"""

from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ValidationError
from django.shortcuts import render
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import AuthorizationView
from rest_framework import exceptions, permissions

OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
# Schemes that would run code or read local files if an app could register them.
FORBIDDEN_SCHEMES = {"javascript", "data", "vbscript", "file", "about", "blob"}


def validate_redirect_uris(redirect_uris: str) -> None:
    """Each URI is the out-of-band URN, or absolute with a harmless scheme and no fragment."""
    uris = redirect_uris.split()
    if not uris:
        raise ValidationError({"redirect_uris": "At least one redirect URI is required."})
    for uri in uris:
        if uri == OOB_REDIRECT_URI:
            continue
        parts = urlsplit(uri)
        scheme = parts.scheme.lower()
        if not scheme or (scheme in ("http", "https") and not parts.netloc):
            raise ValidationError({"redirect_uris": f"{uri} is not an absolute URI."})
        if scheme in FORBIDDEN_SCHEMES or scheme == "urn":
            raise ValidationError({"redirect_uris": f"The scheme of {uri} is not allowed."})
        if parts.fragment or uri.endswith("#"):
            raise ValidationError({"redirect_uris": f"{uri} must not have a fragment."})


def registered_schemes(redirect_uris: str) -> list[str]:
    """The schemes an app may be redirected to: those of the URIs it registered."""
    return sorted({urlsplit(uri).scheme.lower() for uri in redirect_uris.split() if uri != OOB_REDIRECT_URI})


def pkce_required(client_id: str) -> bool:
    """PKCE for public clients (no secret: it is their only protection); optional otherwise."""
    from oauth2_provider.models import get_application_model

    application = get_application_model().objects.filter(client_id=client_id).only("client_type").first()
    return application is None or application.client_type == application.CLIENT_PUBLIC


class MastodonOAuth2Validator(OAuth2Validator):
    """Tokens of suspended or deactivated accounts stop working at once."""

    def validate_bearer_token(self, token, scopes, request):
        valid = super().validate_bearer_token(token, scopes, request)
        user = getattr(request, "user", None)
        return valid and (user is None or _may_use_tokens(user))

    def validate_user(self, username, password, client, request, *args, **kwargs):
        return False  # no password grant: Mastodon 4.4 removed it

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        """Only scopes the app registered (a registered `read` covers `read:statuses`)."""
        registered = set(client.scopes.split())
        return super().validate_scopes(client_id, scopes, client, request, *args, **kwargs) and all(
            scope_satisfied(registered, scope) for scope in scopes
        )

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        return request.client.scopes.split() if getattr(request, "client", None) else ["read"]


def _may_use_tokens(user) -> bool:
    return user.is_active and not user.is_suspended


class BearerTokenAuthentication(OAuth2Authentication):
    """`Authorization: Bearer …` for apps, refusing suspended accounts' tokens."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None and _bearer_sent(request):
            raise exceptions.AuthenticationFailed("The access token is invalid")
        return result


def _bearer_sent(request) -> bool:
    return request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("bearer ")


class OutOfBandAuthorizationView(AuthorizationView):
    """The consent page; for the out-of-band redirect, shows the code instead of redirecting."""

    template_name = "oauth/authorize.html"

    def redirect(self, redirect_to, application):
        if str(redirect_to).startswith(OOB_REDIRECT_URI):
            query = parse_qs(urlsplit(str(redirect_to)).query)
            context = {
                "code": query.get("code", [""])[0],
                "error": query.get("error", [""])[0],
                "application": application,
            }
            return render(self.request, "oauth/oob.html", context)
        return super().redirect(redirect_to, application)


def scope_satisfied(granted: set[str], required: str) -> bool:
    """`read:statuses` is granted by itself, by `read`, and (for follows, blocks, mutes) by `follow`."""
    family = required.split(":", 1)[0]
    legacy_follow = required in {
        "read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes",
    }  # fmt: skip
    return required in granted or family in granted or (legacy_follow and "follow" in granted)


class HasScope(permissions.BasePermission):
    """Per-endpoint scope for token callers; the browser's session is not scoped.

    Views declare `required_scopes = {"GET": "read:statuses", "POST": "write:statuses", …}`.
    """

    message = "This action is outside the authorized scopes"

    def has_permission(self, request, view):
        token = request.auth
        if token is None or not hasattr(token, "scope"):
            return True
        required = getattr(view, "required_scopes", {}).get(request.method)
        return required is None or scope_satisfied(set(token.scope.split()), required)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes BearerTokenAuthentication."""

    target_class = "accounts.oauth.BearerTokenAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An OAuth2 access token from /oauth/token"}
