from django.urls import path, re_path

from . import views

app_name = "graph"

urlpatterns = [
    re_path(rf"^@(?P<username>[A-Za-z0-9_]+)/(?P<action>{'|'.join(views.ACCOUNT_ACTIONS)})/$", views.act, name="act"),
    path("suggestions/", views.suggestions, name="suggestions"),
]
