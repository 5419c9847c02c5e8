from django.urls import path

from . import views

app_name = "calendar_events"

urlpatterns = [
    # The calendar
    path("calendar/", views.event_list, name="event_list"),
    path("calendar/week/", views.event_week, name="event_week"),
    path("calendar/month/", views.event_month, name="event_month"),
    path("calendar/subscribe/", views.feeds_page, name="feeds"),
    path("calendar/calendar.ics", views.feed_all, name="feed_all"),
    path("calendar/organisers/<slug:slug>.ics", views.feed_organiser, name="feed_organiser"),
    path("calendar/categories/<slug:category>.ics", views.feed_category, name="feed_category"),
    path("calendar/events/new/", views.event_create, name="event_create"),
    path("calendar/events/<uuid:event_uuid>/", views.event_detail, name="event_detail"),
    path("calendar/events/<uuid:event_uuid>/edit/", views.event_edit, name="event_edit"),
    path("calendar/events/<uuid:event_uuid>/event.ics", views.event_ics, name="event_ics"),
    path("calendar/events/<uuid:event_uuid>/book/", views.book, name="book"),
    path("calendar/events/<uuid:event_uuid>/attendees/", views.attendees, name="attendees"),
    path("calendar/bookings/<int:booking_id>/cancel/", views.cancel_booking, name="cancel_booking"),
    path("calendar/my/bookings/", views.my_bookings, name="my_bookings"),
    path("calendar/my/events/", views.my_events, name="my_events"),
    path("calendar/venues/new/", views.location_create, name="location_create"),
    path("calendar/feeds-in/new/", views.feed_create, name="feed_create"),
    path("calendar/feeds-in/<int:feed_id>/", views.feed_detail, name="feed_detail"),
    # The notice board
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/new/", views.notice_create, name="notice_create"),
    path("notices/weekly-email/", views.digest, name="digest"),
    path("notices/<uuid:notice_uuid>/", views.notice_detail, name="notice_detail"),
    path("notices/<uuid:notice_uuid>/report/", views.notice_report, name="notice_report"),
    path("notices/<uuid:notice_uuid>/attachment/", views.notice_attachment, name="notice_attachment"),
]
