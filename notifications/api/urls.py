from django.urls import path

from . import views

urlpatterns = [
    path("health", views.health, name="api-streaming-health"),
    path("user", views.user_stream, name="api-streaming-user"),
    path("user/notification", views.user_stream, {"stream": "user:notification"}, name="api-streaming-notification"),
]
