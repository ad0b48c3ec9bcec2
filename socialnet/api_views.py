"""What every Mastodon API view shares: the base views, Mastodon's error answers, parameters.

Mastodon answers a token that has no user behind it (an app's client-credentials token)
on a user endpoint with 422 "This method requires an authenticated user", a missing or
bad token with 401, a missing scope with 403, and invalid input on a write with 422 and
`{"error": "Validation failed: …", "details": {field: [{"error": "ERR_…", "description": …}]}}`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import APIException, NotAuthenticated, NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from accounts.oauth import HasScope
from socialnet.ids import MAX_ID

NOT_FOUND = "Record not found"


class Unprocessable(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "Validation failed"
    default_code = "unprocessable"


class UserRequired(BasePermission):
    """A signed-in user: a user's token or the browser's session."""

    def has_permission(self, request, view):
        if request.user.is_authenticated:
            return True
        if request.auth is not None:  # an app's own token: nobody is signed in
            raise Unprocessable({"error": "This method requires an authenticated user"})
        raise NotAuthenticated("The access token is invalid")


class PublicView(APIView):
    """Anyone may call it; a token that is sent must carry the view's scope."""

    permission_classes = [HasScope]
    required_scopes: dict[str, str] = {}

    def perform_authentication(self, request):
        # An app token authenticates no user: DRF would leave `request.user` None.
        if request.user is None:
            request.user = AnonymousUser()


class UserView(PublicView):
    """A signed-in user with the view's scope."""

    permission_classes = [UserRequired, HasScope]


# --- errors from services -----------------------------------------------------------------

# Django's validation codes by the names Mastodon gives them.
MASTODON_ERROR_CODES = {
    "unique": "ERR_TAKEN",
    "blank": "ERR_BLANK",
    "required": "ERR_BLANK",
    "null": "ERR_BLANK",
    "empty": "ERR_BLANK",
    "max_length": "ERR_TOO_LONG",
    "too_long": "ERR_TOO_LONG",
    "min_length": "ERR_TOO_SHORT",
    "password_too_short": "ERR_TOO_SHORT",
    "invalid_choice": "ERR_INCLUSION",
    "accepted": "ERR_ACCEPTED",
}


def validation_failed(error: DjangoValidationError) -> Unprocessable:
    """Mastodon's 422 body for a service's ValidationError."""
    if hasattr(error, "error_dict"):
        details = {
            field: [
                {"error": MASTODON_ERROR_CODES.get(item.code or "", "ERR_INVALID"), "description": message}
                for item in items
                for message in item.messages
            ]
            for field, items in error.error_dict.items()
        }
        messages = [f"{_label(field)}{entry['description']}" for field, entries in details.items() for entry in entries]
        return Unprocessable({"error": "Validation failed: " + ", ".join(messages), "details": details})
    return Unprocessable({"error": "Validation failed: " + ", ".join(error.messages)})


def _label(field: str) -> str:
    return "" if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: "


@contextmanager
def service_errors() -> Iterator[None]:
    """Run a service call; its ValidationError becomes Mastodon's 422 (PermissionDenied is DRF's 403)."""
    try:
        yield
    except DjangoValidationError as error:
        raise validation_failed(error) from None


# --- parameters ---------------------------------------------------------------------------

FALSE_VALUES = {"0", "f", "false", "off", "no", "n", ""}


def bool_param(data, name: str, default: bool = False) -> bool:
    """Rails-style booleans, as Mastodon reads them: "false", "0", "off" … are false."""
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in FALSE_VALUES


def list_param(data, name: str) -> list[str]:
    """`name[]=a&name[]=b`, `name=a&name=b`, or a JSON list."""
    if hasattr(data, "getlist"):
        values = data.getlist(f"{name}[]") or data.getlist(name)
    else:
        values = data.get(f"{name}[]", data.get(name, []))
    if isinstance(values, str | int):
        values = [values]
    if not isinstance(values, list):
        raise ValidationError({name: f"{name} must be a list."})
    return [str(value) for value in values]


def int_param(data, name: str, default: int, *, low: int, high: int) -> int:
    value = data.get(name)
    if value in (None, ""):
        return default
    try:
        return max(low, min(int(value), high))
    except (TypeError, ValueError):
        raise ValidationError({name: f"{name} must be an integer."}) from None


def is_id(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts "¹" and "٣", which int() refuses or reads."""
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


def object_id(value) -> int:
    """A path or body id; anything that is not one of ours is a 404, as an unknown id is."""
    text = str(value)
    if not is_id(text):
        raise NotFound(NOT_FOUND)
    return int(text)


def id_list(values: list[str], name: str) -> list[int]:
    ids = []
    for value in values:
        if not is_id(value):
            raise ValidationError({name: f"{name} must be ids (digits)."})
        ids.append(int(value))
    return ids


# --- Link headers for lists paged by a key other than the row's own id ----------------------


def link_header_between(request, newest_id: int | None, oldest_id: int | None) -> str | None:
    """`Link` with next (older than the page) and prev (newer than the page)."""
    if newest_id is None or oldest_id is None:
        return None
    base = request.build_absolute_uri(request.path)
    kept = [(k, v) for k, v in request.query_params.lists() if k not in ("max_id", "since_id", "min_id")]
    kept = [(k, value) for k, values in kept for value in values]
    older = urlencode([*kept, ("max_id", oldest_id)])
    newer = urlencode([*kept, ("min_id", newest_id)])
    return f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'


def with_link(response, link: str | None):
    if link:
        response["Link"] = link
    return response
