"""Project-wide HTTP policy that belongs to no single app."""

from django.utils.cache import patch_cache_control


def no_store_when_signed_in(get_response):
    """A page served to a signed-in user shows clinical data: browsers and proxies must not
    keep it (Cache-Control: no-store, RFC 9111 section 5.2.2.5), so the back button after
    signing out, or a shared computer's cache, shows nothing. Static files are served before
    this middleware (WhiteNoise) and stay cacheable."""

    def middleware(request):
        response = get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True)
        return response

    return middleware
