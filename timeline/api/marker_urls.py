from django.urls import path

from . import markers

urlpatterns = [path("v1/markers", markers.Markers.as_view(), name="api-markers")]
