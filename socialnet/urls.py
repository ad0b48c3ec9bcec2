from django.conf import settings
from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from socialnet import search_views
from socialnet.api_instance import api_not_found


def healthz(request):
    """Liveness for load balancers and docker-compose: the process answers."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("accounts.api.urls")),
    path("api/", include("timeline.api.urls")),
    path("api/", include("socialnet.api_urls")),
    path("api/v1/streaming/", include("notifications.api.urls")),
    path("", include("accounts.oauth_urls")),
    path("", include("accounts.urls")),
    path("", include("graph.urls")),
    path("", include("posts.urls")),
    path("", include("timeline.urls")),
    path("", include("notifications.urls")),
    path("search/", search_views.search, name="search"),
]

if settings.BENCHMARK_ENDPOINTS:
    # The floor and "phase 0" pages that `manage.py bench_timeline` measures the home timeline against.
    urlpatterns += [path("api/bench/", include("timeline.api.bench_views"))]

if settings.SERVE_MEDIA:
    # Avatars are re-encoded on upload (accounts.services.reencode_avatar), so serving
    # them from the app is safe; a big deployment serves MEDIA_ROOT from a proxy or CDN.
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [re_path(rf"^{media_prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]

# Last: any other /api/ path is Mastodon's JSON 404, never an HTML page.
urlpatterns += [re_path(r"^api/", api_not_found)]
