from django.urls import path

from . import views

urlpatterns = [
    path("v1/favourites", views.Favourites.as_view(), name="api-favourites"),
    path("v1/statuses", views.Statuses.as_view(), name="api-statuses"),
    path("v1/statuses/<str:status_id>", views.StatusDetail.as_view(), name="api-status"),
    path("v1/statuses/<str:status_id>/context", views.StatusContext.as_view(), name="api-status-context"),
    path("v1/statuses/<str:status_id>/favourite", views.Favourite.as_view(), name="api-status-favourite"),
    path("v1/statuses/<str:status_id>/unfavourite", views.Unfavourite.as_view(), name="api-status-unfavourite"),
    path("v1/statuses/<str:status_id>/reblog", views.Reblog.as_view(), name="api-status-reblog"),
    path("v1/statuses/<str:status_id>/unreblog", views.Unreblog.as_view(), name="api-status-unreblog"),
    path("v1/statuses/<str:status_id>/favourited_by", views.FavouritedBy.as_view(), name="api-status-favourited-by"),
    path("v1/statuses/<str:status_id>/reblogged_by", views.RebloggedBy.as_view(), name="api-status-reblogged-by"),
]
