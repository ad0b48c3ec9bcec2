"""Access tokens the API hands out itself: the new user's token at sign-up (POST /api/v1/accounts).

Made through django-oauth-toolkit's own model helpers, so the token is stored hashed
(COMPLIANT_BCP_RFC9700_TOKEN_STORAGE) exactly as one from /oauth/token.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, set_token_value
from oauth2_provider.settings import oauth2_settings


@dataclass(frozen=True)
class IssuedToken:
    access_token: str  # the raw value: shown once, never stored
    scope: str
    created_at: datetime


def issue_user_token(application, user, scope: str) -> IssuedToken:
    AccessToken = get_access_token_model()
    raw = generate_client_secret()
    token = AccessToken(
        user=user,
        application=application,
        scope=scope,
        expires=timezone.now() + timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS),
    )
    set_token_value(token, raw)
    token.save()
    return IssuedToken(access_token=raw, scope=scope, created_at=token.created)
