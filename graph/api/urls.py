from django.urls import path

from . import views

urlpatterns = [
    path("v1/blocks", views.Blocks.as_view(), name="api-blocks"),
    path("v1/mutes", views.Mutes.as_view(), name="api-mutes"),
    path("v2/suggestions", views.Suggestions.as_view(), name="api-suggestions"),
    path("v1/suggestions/<str:account_id>", views.RemoveSuggestion.as_view(), name="api-suggestion-remove"),
]
