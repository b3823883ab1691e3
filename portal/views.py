from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from accounts.scoping import restrict
from subjects.models import Subject
from trial.models import Site


@login_required
def home(request):
    sites = restrict(Site.objects.select_related("study"), request.user)
    subjects = restrict(
        Subject.objects.select_related("site", "cohort__dose_level", "cohort__track__regimen"),
        request.user,
    )
    return render(request, "portal/home.html", {"sites": sites, "subjects": subjects})


@login_required
def subject_detail(request, pk: int):
    """The subject's casebook. Another site's subject is simply not found (404)."""
    subject = get_object_or_404(
        restrict(
            Subject.objects.select_related("site", "study", "cohort__dose_level"), request.user
        ),
        pk=pk,
    )
    return render(request, "portal/subject_detail.html", {"subject": subject})
