from django.urls import path

from . import rest_views as views

urlpatterns = [
    path("v1/notifications", views.Notifications.as_view(), name="api-notifications"),
    path("v1/notifications/clear", views.ClearNotifications.as_view(), name="api-notifications-clear"),
    path("v1/notifications/unread_count", views.UnreadCount.as_view(), name="api-notifications-unread-count"),
    path("v1/notifications/<str:notification_id>", views.NotificationDetail.as_view(), name="api-notification"),
    path(
        "v1/notifications/<str:notification_id>/dismiss",
        views.DismissNotification.as_view(),
        name="api-notification-dismiss",
    ),
    path("v2/notifications", views.GroupedNotifications.as_view(), name="api-notifications-grouped"),
    path(
        "v2/notifications/unread_count",
        views.GroupedUnreadCount.as_view(),
        name="api-notifications-grouped-unread-count",
    ),
    path("v2/notifications/<str:group_key>", views.NotificationGroupDetail.as_view(), name="api-notification-group"),
    path(
        "v2/notifications/<str:group_key>/accounts",
        views.NotificationGroupAccounts.as_view(),
        name="api-notification-group-accounts",
    ),
    path(
        "v2/notifications/<str:group_key>/dismiss",
        views.DismissNotificationGroup.as_view(),
        name="api-notification-group-dismiss",
    ),
]
