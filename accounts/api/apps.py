"""POST /api/v1/apps and GET /api/v1/apps/verify_credentials (Mastodon's apps API)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from oauth2_provider.models import get_application_model
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.oauth import BearerTokenAuthentication

from .. import oauth


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
class RedirectURIs(serializers.Field):
    """A string of URIs separated by whitespace, or a list of them (Mastodon 4.3+)."""

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):  # form data: repeated keys, or `redirect_uris[]`
            values = dictionary.getlist(self.field_name) or dictionary.getlist(f"{self.field_name}[]")
            return values if len(values) != 1 else values[0]
        return dictionary.get(self.field_name, serializers.empty)

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class AppRegistration(serializers.Serializer):
    client_name = serializers.CharField(max_length=255)
    redirect_uris = RedirectURIs()
    scopes = serializers.CharField(required=False, default="read", max_length=1000)
    website = serializers.URLField(required=False, allow_blank=True, max_length=2000)

    def validate_redirect_uris(self, value):
        uris = value if isinstance(value, list) else str(value).split()
        if not uris:
            raise ValidationError("At least one redirect URI is required.")
        if not all(isinstance(uri, str) for uri in uris):
            raise ValidationError("redirect_uris must be a URI or a list of URIs.")
        return " ".join(uris)

    def validate_scopes(self, value):
        from oauth2_provider.settings import oauth2_settings

        unknown = set(value.split()) - set(oauth2_settings.SCOPES)
        if unknown:
            raise ValidationError(f"Unknown scopes: {' '.join(sorted(unknown))}.")
        return " ".join(value.split())


def application_entity(application, *, with_secret: bool) -> dict:
    uris = application.redirect_uris.split()
    entity = {
        "id": str(application.pk),
        "name": application.name,
        "website": application.website or None,
        "scopes": application.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": "",
    }
    if with_secret:
        entity |= {
            "client_id": application.client_id,
            "client_secret": application.client_secret_plain,
            "client_secret_expires_at": 0,
        }
    return entity


@extend_schema(request=AppRegistration, responses=OpenApiTypes.OBJECT)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def register_app(request):
    data = AppRegistration(data=request.data)
    data.is_valid(raise_exception=True)
    Application = get_application_model()
    secret = Application._meta.get_field("client_secret").default()
    application = Application(
        name=data.validated_data["client_name"],
        redirect_uris=data.validated_data["redirect_uris"],
        website=data.validated_data.get("website", ""),
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        client_secret=secret,
        skip_authorization=False,
    )
    application.scopes = data.validated_data["scopes"]
    try:
        oauth.validate_redirect_uris(application.redirect_uris)
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict) from None
    application.save()
    application.client_secret_plain = secret  # stored hashed; shown once, now
    return Response(application_entity(application, with_secret=True))


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
@authentication_classes([BearerTokenAuthentication])
@permission_classes([AllowAny])
def verify_app_credentials(request):
    token = request.auth
    if token is None:
        raise NotAuthenticated("The access token is invalid")
    return Response(application_entity(token.application, with_secret=False))
