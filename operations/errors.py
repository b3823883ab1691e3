"""The server-error page (docs/operations.md §8): nothing is saved in part, and what the user
typed is handed back.

A form posted while the database is restarting fails as a whole (a change is saved whole or not
at all). The page then lists the values the user typed and offers to send the same entry again,
so a coordinator who spent minutes on an adverse event does not type it twice. It renders with no
database, no request context and no static file: the failure may be the database itself.
"""

import logging

from django.http import HttpRequest, HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

log = logging.getLogger(__name__)

# Never echoed back: passwords and one-time codes are typed again (21 CFR 11.200: a signature's
# components are entered at each signing), and a file cannot be re-attached by the server.
SECRET_MARKERS = ("password", "otp", "token_code", "totp")
CSRF_FIELD = "csrfmiddlewaretoken"


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def _typed_values(request: HttpRequest) -> tuple[list[tuple[str, str]], bool, bool]:
    """The posted fields in order (name, value), whether secrets were left out, whether files
    were chosen. Empty for anything but a browser form post."""
    if request.method != "POST" or request.path.startswith("/api/"):
        return [], False, False
    try:
        posted = request.POST
        files = bool(request.FILES)
    except Exception:  # an unreadable or oversized body: nothing to hand back
        log.warning("server error page: the posted form could not be read again")
        return [], False, False
    kept: list[tuple[str, str]] = []
    left_out = False
    for name, values in posted.lists():
        if _is_secret(name):
            left_out = True
            continue
        kept.extend((name, value) for value in values)
    return kept, left_out, files


@requires_csrf_token
def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponseServerError:
    kept, left_out, files = _typed_values(request)
    shown = [
        (name.replace("_", " ").capitalize(), value)
        for name, value in kept
        if name != CSRF_FIELD and value != ""
    ]
    context = {
        "kept": kept if shown else [],
        "shown": shown,
        "secrets_left_out": left_out,
        "files_left_out": files,
        "action": request.get_full_path(),
    }
    template = loader.get_template(template_name)
    return HttpResponseServerError(template.render(context))
