"""The OAuth endpoints at Mastodon's paths (no trailing slashes): /oauth/authorize, /token, /revoke.

Named in the toolkit's namespace so its metadata document finds them.
"""

from django.urls import path
from oauth2_provider import views as oauth_views

from .oauth import OutOfBandAuthorizationView

app_name = "oauth2_provider"

urlpatterns = [
    path("oauth/authorize", OutOfBandAuthorizationView.as_view(), name="authorize"),
    path("oauth/token", oauth_views.TokenView.as_view(), name="token"),
    path("oauth/revoke", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path(
        ".well-known/oauth-authorization-server",
        oauth_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
]
