"""The app's own page for a request method an address does not take (HTTP 405).

Django's method decorators (`require_POST`, a POST-only class view such as sign-out) answer 405
with an empty body, which a browser shows as its own error page. A person who opens such an
address (a bookmark, a reload, a link typed in) gets a page that says what the address is for and
where to go instead; the 405 status and its Allow header stay. The REST API answers its own
errors (JSON) and is left alone.
"""

from django.http import HttpResponseNotAllowed
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


class MethodNotAllowedPage:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            isinstance(response, HttpResponseNotAllowed)
            and not response.content
            and not request.path.startswith("/api/v1/")
        ):
            allowed = [m.strip() for m in response.get("Allow", "").split(",") if m.strip()]
            back = request.META.get("HTTP_REFERER", "")
            if not url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                back = ""
            response.content = render_to_string(
                "405.html",
                {
                    "allowed": allowed,
                    "method": request.method,
                    "back": back,
                    "is_sign_out": request.path == reverse("logout"),
                },
                request=request,
            ).encode()
            response["Content-Type"] = "text/html; charset=utf-8"
        return response
