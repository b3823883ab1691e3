"""The home page and the subject casebook."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import Capability
from accounts.scoping import can
from portal import selectors

from .common import site_timezone, visible_subject


@login_required
@require_GET
def home(request):
    """The user's sites and their subjects: status, cohort, dose level, DLT window, open tasks;
    and the escalation status of each track (cohorts open or full, the current recommendation)."""
    status_filter = request.GET.get("show", "active")
    if status_filter not in selectors.STATUS_FILTERS:
        status_filter = "active"
    sites = selectors.home_sites(request.user, status_filter)
    return render(
        request,
        "portal/home.html",
        {
            "sites": sites,
            "tracks": selectors.escalation_tracks(request.user),
            "filters": [(key, label) for key, (label, _) in selectors.STATUS_FILTERS.items()],
            "status_filter": status_filter,
            "can_screen": any(block.can_enter for block in sites),
        },
    )


@login_required
@require_GET
def subject_detail(request, pk: int):
    """The subject's casebook: summary, DLT window, timeline, doses, adverse events, and the
    change history of every record. Another site's subject is simply not found (404)."""
    subject = visible_subject(request.user, pk)
    book = selectors.casebook(request.user, subject)
    site = subject.site
    with site_timezone(site):
        return render(
            request,
            "portal/casebook.html",
            {
                "subject": subject,
                "book": book,
                "can_enter": can(
                    request.user,
                    Capability.ENTER_DATA,
                    study_id=subject.study_id,
                    site_id=subject.site_id,
                ),
                "can_edit": can(
                    request.user,
                    Capability.EDIT_DATA,
                    study_id=subject.study_id,
                    site_id=subject.site_id,
                ),
                "can_attest": can(
                    request.user,
                    Capability.ATTEST_DLT,
                    study_id=subject.study_id,
                    site_id=subject.site_id,
                ),
            },
        )


@login_required
@require_POST
def keepalive(request):
    """Typing in a form counts as activity: the page pings this so the session does not end
    while someone is entering data. The session's expiry slides with every request."""
    return HttpResponse(status=204, headers={"X-Session-Seconds": str(settings.SESSION_COOKIE_AGE)})
