from django.urls import path

from . import apps

urlpatterns = [
    path("v1/apps", apps.register_app, name="api-apps"),
    path("v1/apps/verify_credentials", apps.verify_app_credentials, name="api-apps-verify"),
]
