import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse

log = logging.getLogger(__name__)


def health(request):
    """For load balancers and docker-compose: the app answers and reaches its database.

    JSON either way: 200 {"status": "ok"}, or 503 {"status": "unavailable"} when the database
    cannot be reached, so a load balancer takes the instance out instead of reading a 500 page.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        log.warning("health: the database is unreachable (%s)", error)
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
