from django.urls import path

from . import views

urlpatterns = [
    path("v1/timelines/home", views.home, name="api-timeline-home"),
    path("v1/timelines/public", views.public, name="api-timeline-public"),
    path("v1/timelines/tag/<str:hashtag>", views.tag, name="api-timeline-tag"),
]
