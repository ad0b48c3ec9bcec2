from django.urls import path

from . import accounts as views

urlpatterns = [
    path("v1/accounts", views.AccountsView.as_view(), name="api-accounts"),
    path("v1/accounts/verify_credentials", views.VerifyCredentials.as_view(), name="api-verify-credentials"),
    path("v1/accounts/update_credentials", views.UpdateCredentials.as_view(), name="api-update-credentials"),
    path("v1/accounts/lookup", views.Lookup.as_view(), name="api-account-lookup"),
    path("v1/accounts/relationships", views.Relationships.as_view(), name="api-relationships"),
    path("v1/accounts/search", views.AccountSearch.as_view(), name="api-account-search"),
    path("v1/accounts/<str:account_id>", views.AccountDetail.as_view(), name="api-account"),
    path("v1/accounts/<str:account_id>/statuses", views.AccountStatuses.as_view(), name="api-account-statuses"),
    path("v1/accounts/<str:account_id>/followers", views.Followers.as_view(), name="api-account-followers"),
    path("v1/accounts/<str:account_id>/following", views.Following.as_view(), name="api-account-following"),
    path("v1/accounts/<str:account_id>/follow", views.Follow.as_view(), name="api-account-follow"),
    path("v1/accounts/<str:account_id>/unfollow", views.Unfollow.as_view(), name="api-account-unfollow"),
    path("v1/accounts/<str:account_id>/block", views.Block.as_view(), name="api-account-block"),
    path("v1/accounts/<str:account_id>/unblock", views.Unblock.as_view(), name="api-account-unblock"),
    path("v1/accounts/<str:account_id>/mute", views.Mute.as_view(), name="api-account-mute"),
    path("v1/accounts/<str:account_id>/unmute", views.Unmute.as_view(), name="api-account-unmute"),
]
