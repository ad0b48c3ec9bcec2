# Load the Celery app whenever Django starts so @shared_task binds to it.
from . import db_pool  # noqa: F401  (registers the after-fork reset of the connection pools)
from .celery import app as celery_app

__all__ = ("celery_app",)
