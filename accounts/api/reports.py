"""POST /api/v1/reports (content/en/methods/reports.md), through accounts.services.file_report."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import Report
from accounts.services import file_report
from posts.selectors import visible_posts
from socialnet.api_views import (
    NOT_FOUND,
    Unprocessable,
    UserView,
    id_list,
    list_param,
    service_errors,
)

from .accounts import visible_account
from .serializers import AccountSerializer

STATUSES_MAX = 100


class NewReport(serializers.Serializer):
    account_id = serializers.CharField(max_length=30)
    status_ids = serializers.ListField(child=serializers.CharField(), required=False)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=100_000)
    category = serializers.CharField(required=False, max_length=30)
    forward = serializers.BooleanField(required=False)
    rule_ids = serializers.ListField(child=serializers.CharField(), required=False)


ReportEntity = inline_serializer(
    "Report",
    {
        "id": serializers.CharField(),
        "action_taken": serializers.BooleanField(),
        "action_taken_at": serializers.DateTimeField(allow_null=True),
        "category": serializers.CharField(),
        "comment": serializers.CharField(),
        "forwarded": serializers.BooleanField(),
        "created_at": serializers.DateTimeField(),
        "status_ids": serializers.ListField(child=serializers.CharField(), allow_null=True),
        "rule_ids": serializers.ListField(child=serializers.CharField(), allow_null=True),
        "target_account": AccountSerializer(),
    },
)


def report_entity(request, report: Report, status_ids: list[int]) -> dict:
    return {
        "id": str(report.pk),
        "action_taken": report.status != Report.Status.OPEN,
        "action_taken_at": serializers.DateTimeField().to_representation(report.resolved_at)
        if report.resolved_at
        else None,
        "category": report.category,
        "comment": report.comment,
        "forwarded": False,
        "created_at": serializers.DateTimeField().to_representation(report.created_at),
        "status_ids": [str(i) for i in status_ids] or None,
        "rule_ids": None,
        "target_account": AccountSerializer(report.target, context={"request": request}).data,
    }


class Reports(UserView):
    required_scopes = {"POST": "write:reports"}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=NewReport, responses=ReportEntity)
    def post(self, request):
        data = NewReport(data=request.data)
        if not data.is_valid():
            raise Unprocessable({"error": "Validation failed", "details": data.errors})
        target = visible_account(data.validated_data["account_id"])
        status_ids = list(dict.fromkeys(id_list(list_param(request.data, "status_ids"), "status_ids")))
        if len(status_ids) > STATUSES_MAX:
            raise Unprocessable({"error": f"Validation failed: at most {STATUSES_MAX} statuses"})
        posts = list(visible_posts(request.user).filter(pk__in=status_ids))
        if len(posts) != len(status_ids):
            raise NotFound(NOT_FOUND)
        with service_errors():
            report = file_report(
                request.user,
                target,
                category=data.validated_data.get("category") or Report.Category.OTHER,
                comment=data.validated_data.get("comment", ""),
                posts=posts,
            )
        return Response(report_entity(request, report, status_ids))
