"""Mastodon-style paging for list endpoints: max_id / since_id / min_id / limit, and Link headers."""

from dataclasses import dataclass
from urllib.parse import urlencode

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

from socialnet.ids import MAX_ID


@dataclass(frozen=True)
class PageSize:
    """An endpoint's `limit`: what it answers without one, and the most it answers."""

    default: int
    max: int


# Mastodon's sizes per kind of list (content/en/api/guidelines.md#pagination and each method).
STATUS_PAGE = PageSize(default=20, max=40)  # timelines, an account's statuses, favourites
ACCOUNT_PAGE = PageSize(default=40, max=80)  # followers, following, favourited_by, blocks, mutes…
NOTIFICATION_PAGE = PageSize(default=40, max=80)

ID_PARAMETERS = [
    OpenApiParameter("max_id", OpenApiTypes.STR, description="Results older than this id."),
    OpenApiParameter("since_id", OpenApiTypes.STR, description="The newest results newer than this id."),
    OpenApiParameter("min_id", OpenApiTypes.STR, description="The results immediately newer than this id."),
]


def limit_parameter(size: PageSize) -> OpenApiParameter:
    return OpenApiParameter("limit", OpenApiTypes.INT, description=f"Default {size.default}, max {size.max}.")


def paging_parameters(size: PageSize) -> list[OpenApiParameter]:
    return [*ID_PARAMETERS, limit_parameter(size)]


PAGING_PARAMETERS = paging_parameters(STATUS_PAGE)


@dataclass(frozen=True)
class PageRequest:
    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int

    def as_kwargs(self) -> dict:
        return {"max_id": self.max_id, "since_id": self.since_id, "min_id": self.min_id, "limit": self.limit}


def page_request(request, size: PageSize = STATUS_PAGE) -> PageRequest:
    """Read the paging parameters; a malformed one is a 400 that names it."""
    params = request.query_params
    return PageRequest(
        max_id=_id_param(params, "max_id"),
        since_id=_id_param(params, "since_id"),
        min_id=_id_param(params, "min_id"),
        limit=max(1, min(_int_param(params, "limit", size.default), size.max)),
    )


def link_header(request, items) -> str | None:
    """`Link: <…?max_id=oldest>; rel="next", <…?min_id=newest>; rel="prev"`, as Mastodon sends."""
    if not items:
        return None
    base = request.build_absolute_uri(request.path)
    kept = {k: v for k, v in request.query_params.items() if k not in ("max_id", "since_id", "min_id")}
    older = urlencode({**kept, "max_id": items[-1].pk})
    newer = urlencode({**kept, "min_id": items[0].pk})
    return f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'


def _id_param(params, name):
    value = params.get(name)
    if value in (None, ""):
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_ID:  # isdigit() alone accepts "¹"
        raise ValidationError({name: f"{name} must be a status id (digits)."})
    return int(value)


def _int_param(params, name, default):
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ValidationError({name: f"{name} must be an integer."}) from None
