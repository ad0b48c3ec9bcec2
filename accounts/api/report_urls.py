from django.urls import path

from . import reports

urlpatterns = [path("v1/reports", reports.Reports.as_view(), name="api-reports")]
