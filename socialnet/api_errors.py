"""DRF exception handler: domain errors from services become clear 4xx answers.

Services raise Django's ValidationError and PermissionDenied; DRF knows the second but
not the first, which would otherwise surface as a 500.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"error": exc.messages}
        exc = ValidationError(detail=detail)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "error" not in response.data:
        # Mastodon clients read the `error` key; keep DRF's field details beside it.
        response.data["error"] = _first_message(response.data)
    return response


def _first_message(data):
    value = data.get("detail") or next(iter(data.values()), "")
    while isinstance(value, list | dict):
        value = next(iter(value.values() if isinstance(value, dict) else value), "")
    return str(value)
