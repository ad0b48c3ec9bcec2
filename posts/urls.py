from django.urls import path, re_path

from . import views

app_name = "posts"

urlpatterns = [
    path("posts/", views.create, name="create"),
    path("posts/<int:post_id>/", views.detail, name="detail"),
    path("posts/<int:post_id>/edit/", views.edit, name="edit"),
    path("posts/<int:post_id>/delete/", views.delete, name="delete"),
    path("posts/<int:post_id>/menu/", views.menu, name="menu"),
    re_path(rf"^posts/(?P<post_id>[0-9]+)/(?P<action>{'|'.join(views.POST_ACTIONS)})/$", views.act, name="act"),
    path("tags/<str:name>/", views.hashtag, name="hashtag"),
]
