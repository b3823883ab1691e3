from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("timeline/", views.timeline, name="timeline"),
    path("adverse-events/", views.adverse_events, name="adverse_events"),
    path("listings/", views.listings, name="listings"),
    path("listings/forms/<slug:form>/", views.form_listing_view, name="form_listing"),
    path("committee/", views.committee, name="committee"),
    path("committee/recommendations/<int:pk>/", views.review, name="review"),
    path("committee/tracks/<int:pk>/decide/", views.track_decision, name="track_decision"),
    path("adverse-events/<int:pk>/adjudicate/", views.adjudicate, name="adjudicate"),
    path("notifications/", views.notifications, name="notifications"),
    path("start/", views.after_sign_in, name="after_sign_in"),
]
