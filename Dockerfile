# Production image. Runs the ASGI app with uvicorn (HTTP and websockets) by default; the same
# image runs the Celery worker, beat and migrations with another command (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/media

RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Runtime dependencies only (tests, ruff and the dev servers live in requirements-dev.txt).
# Every pin ships a manylinux wheel, so no compiler is needed. Copied alone so code changes
# do not reinstall them.
COPY requirements.txt .
RUN pip install --requirement requirements.txt

# The code stays owned by root: the app user can read it but not change it.
COPY . .

# Static files are collected into the image. The settings need a SECRET_KEY when DEBUG is
# false; this one exists only during the build and never reaches a running container.
RUN DEBUG=false SECRET_KEY=build-only-key-for-collectstatic-not-used-at-runtime-0123456789 \
    python manage.py collectstatic --noinput

# A new named volume mounted at /media starts as a copy of this directory, owner included,
# which is what lets the non-root app user write uploads into it.
RUN mkdir -p /media && chown app:app /media

USER app
EXPOSE 8000
CMD ["uvicorn", "socialnet.asgi:application", "--lifespan", "off", "--host", "0.0.0.0", "--port", "8000"]
