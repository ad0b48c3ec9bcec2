from django.urls import path

from . import views

app_name = "posts"

urlpatterns = [
    path("posts/", views.create, name="create"),
    path("posts/<int:post_id>/", views.detail, name="detail"),
    path("posts/<int:post_id>/edit/", views.edit, name="edit"),
    path("posts/<int:post_id>/delete/", views.delete, name="delete"),
    path("posts/<int:post_id>/like/", views.like, name="like"),
    path("posts/<int:post_id>/unlike/", views.unlike, name="unlike"),
    path("posts/<int:post_id>/repost/", views.repost, name="repost"),
    path("posts/<int:post_id>/unrepost/", views.unrepost, name="unrepost"),
    path("tags/<str:name>/", views.hashtag, name="hashtag"),
]
