"""Pages of the calendar and notice board, and the iCalendar feeds. Thin: forms check, services write,
selectors read, accounts.permissions decides."""

import hashlib
import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import can, require
from core import exports, uploads
from core.files import private_file_response
from core.forms import add_validation_errors
from core.parameters import date_param, month_param, next_url, text_param
from core.text import render_markdown
from organisations.models import Organisation
from organisations.selectors import organisations_edited_by

from . import ical, recurrence, selectors, services
from .forms import (
    EVENT_FORM_FIELDS,
    AttendanceForm,
    DigestForm,
    EventFilterForm,
    EventForm,
    FeedForm,
    LocationForm,
    NoticeFilterForm,
    NoticeForm,
    NoticeReportForm,
    OrganisationChoiceForm,
)
from .models import Booking, CalendarFeed, Category, Event, Notice

LIST_DAYS = 60
PER_PAGE = 25
MONTH_CELL_LIMIT = 4
MONTH_TITLE_LENGTH = 40
MONTH_CACHE_SECONDS = 10 * 60
# The event model's fields as the event form calls them, for a service's errors.
def _occurrence_param(value: str | None) -> datetime | None:
    """Occurrences are named in URLs by their start as a Unix timestamp."""
    try:
        return datetime.fromtimestamp(int(value), tz=dt_timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _event_or_404(request, event_uuid) -> Event:
    event = selectors.event_page(event_uuid)
    if event is None or not can(request.user, "calendar_events.view_event", event):
        raise Http404
    return event


def _feed_links(request) -> dict:
    url = request.build_absolute_uri(reverse("calendar_events:feed_all"))
    return {"feed_url": url, "webcal_url": ical.webcal(url)}


# Finding events -----------------------------------------------------------------------------------


def event_list(request):
    form = EventFilterForm(request.GET or None)
    filters = form.filters()
    start_day = date_param(request.GET, "from", default=timezone.localdate())
    start = (
        max(selectors.local_midnight(start_day), timezone.now())
        if start_day == timezone.localdate()
        else selectors.local_midnight(start_day)
    )
    occurrences = selectors.occurrences_between(
        start, selectors.local_midnight(start_day + timedelta(days=LIST_DAYS)), filters
    )
    page = Paginator(occurrences, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "calendar_events/event_list.html",
        {
            "form": form,
            "page": page,
            "start_day": start_day,
            "end_day": start_day + timedelta(days=LIST_DAYS - 1),
            "filtered": filters != selectors.EventFilters(),
            "query": form.query_string(),
            **_feed_links(request),
        },
    )


def event_week(request):
    form = EventFilterForm(request.GET or None)
    day = date_param(request.GET, "date", default=timezone.localdate())
    monday = day - timedelta(days=day.weekday())
    return render(
        request,
        "calendar_events/event_week.html",
        {
            "form": form,
            "days": selectors.week_days(monday, form.filters()),
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "previous": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
            "today": timezone.localdate(),
            "query": form.query_string(),
            **_feed_links(request),
        },
    )


def event_month(request):
    form = EventFilterForm(request.GET or None)
    today = timezone.localdate()
    year, month = month_param(request.GET, "month", default=(today.year, today.month))
    # The grid is cached under the calendar's version (its events' count and latest change), so any
    # change to any event shows at once, while a busy month is worked out once, not per visitor.
    query = form.query_string()
    key = "calendar-month-v2:{}-{}:{}:{}".format(
        year, month, hashlib.sha256(query.encode()).hexdigest()[:16], selectors.calendar_version()
    )
    grid = cache.get(key)
    if grid is None:
        grid = selectors.month_grid(year, month, form.filters(), per_day=MONTH_CELL_LIMIT)
        ending = selectors.truncation_text()
        for week in grid["weeks"]:
            for day in week:
                # Only what the page shows is kept, as ready-made strings for a lean template.
                day["shown"] = [
                    selectors.MonthEntry(occurrence, MONTH_TITLE_LENGTH, ending) for occurrence in day["occurrences"]
                ]
                day["more"] = day["total"] - len(day["shown"])
                del day["total"]
                day["iso"] = day["date"].isoformat()
                day["number"] = day["date"].day
                del day["occurrences"]
        cache.set(key, grid, MONTH_CACHE_SECONDS)
    week_url = reverse("calendar_events:event_week")
    phone_days, grid_rows = selectors.month_days_html(grid["weeks"], today=today, week_url=week_url, query=query)
    return render(
        request,
        "calendar_events/event_month.html",
        {
            "form": form,
            "grid": grid,
            "today": today,
            "query": query,
            "phone_days": phone_days,
            "grid_rows": grid_rows,
            **_feed_links(request),
        },
    )


def _json_ld(event: Event, occurrence, request) -> str:
    """schema.org Event for the page (the next date of a series)."""
    start, end = (
        (occurrence.local_start, occurrence.local_end)
        if occurrence
        else (event.start.astimezone(recurrence.LONDON), event.end.astimezone(recurrence.LONDON))
    )
    status = {
        Event.Status.SCHEDULED: "https://schema.org/EventScheduled",
        Event.Status.CANCELLED: "https://schema.org/EventCancelled",
        Event.Status.POSTPONED: "https://schema.org/EventPostponed",
    }[Event.Status(event.status) if not event.is_withdrawn else Event.Status.CANCELLED]
    locations = []
    if event.venue_id:
        venue = event.venue
        locations.append(
            {
                "@type": "Place",
                "name": venue.name,
                "address": {
                    "@type": "PostalAddress",
                    "streetAddress": ", ".join(p for p in (venue.address_line_1, venue.address_line_2) if p),
                    "addressLocality": venue.town,
                    "postalCode": venue.postcode,
                    "addressCountry": "GB",
                },
            }
        )
    if event.online_url:
        # The joining link only where anyone may join; else the event page, which shows it to people with a place.
        public_link = event.joining_link_for(has_place=False) or request.build_absolute_uri(event.get_absolute_url())
        locations.append({"@type": "VirtualLocation", "url": public_link})
    if not locations:
        locations.append({"@type": "Place", "name": event.location_text or _("To be confirmed")})
    mode = (
        "Mixed"
        if event.venue_id and event.online_url
        else "Online"
        if event.online_url and not event.venue_id
        else "Offline"
    )
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "description": ical.plain_text(event.description)[:5000],
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "eventStatus": status,
        "eventAttendanceMode": f"https://schema.org/{mode}EventAttendanceMode",
        "location": locations[0] if len(locations) == 1 else locations,
        "organizer": {
            "@type": "Organization",
            "name": event.organiser.name,
            "url": request.build_absolute_uri(event.organiser.get_absolute_url()),
        },
        "url": request.build_absolute_uri(event.get_absolute_url()),
        "isAccessibleForFree": event.is_free,
        "inLanguage": [language.name for language in event.languages.all()] or ["en-GB"],
    }
    if not event.is_free and event.cost is not None:
        data["offers"] = {"@type": "Offer", "price": str(event.cost), "priceCurrency": "GBP", "url": data["url"]}
    if event.capacity:
        data["maximumAttendeeCapacity"] = event.capacity
    # Escape "<" so text in the JSON cannot close the script element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def event_detail(request, event_uuid):
    event = _event_or_404(request, event_uuid)
    upcoming = selectors.upcoming_occurrences(event)
    left = selectors.places_left(event, [occurrence.start for occurrence in upcoming])
    mine = selectors.bookings_of_user_for(event, request.user)
    can_manage = can(request.user, "calendar_events.manage_bookings", event)
    has_place = any(booking.status == Booking.Status.BOOKED for booking in mine.values())
    rows = [
        {
            "occurrence": occurrence,
            "left": left.get(occurrence.start),
            "booking": mine.get(occurrence.start),
            "ts": int(occurrence.start.timestamp()),
        }
        for occurrence in upcoming
    ]
    organiser_feed = request.build_absolute_uri(reverse("calendar_events:feed_organiser", args=[event.organiser.slug]))
    return render(
        request,
        "calendar_events/event_detail.html",
        {
            "event": event,
            "rows": rows,
            "next": upcoming[0] if upcoming else None,
            "description": render_markdown(event.description),
            "json_ld": _json_ld(event, upcoming[0] if upcoming else None, request),
            "can_change": can(request.user, "calendar_events.change_event", event),
            "can_manage": can_manage,
            "joining_link": event.joining_link_for(has_place=has_place, manages=can_manage),
            "organiser_webcal": ical.webcal(organiser_feed),
            "organiser_feed": organiser_feed,
        },
    )


def event_ics(request, event_uuid):
    """“Add to my calendar”: the one event as an .ics file."""
    event = _event_or_404(request, event_uuid)
    response = HttpResponse(ical.calendar_text([event], name=event.title), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=f"event-{event.uuid}.ics")
    return response


# Feeds out --------------------------------------------------------------------------------------


def _feed_response(events, name: str) -> HttpResponse:
    response = HttpResponse(
        ical.calendar_text(selectors.feed_events(events), name=name), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["Cache-Control"] = "public, max-age=900"
    return response


def feed_all(request):
    return _feed_response(selectors.events_for_feed(), settings.SITE_NAME)


def feed_organiser(request, slug):
    organisation = get_object_or_404(Organisation, slug=slug, is_active=True)
    return _feed_response(
        selectors.events_for_feed(organiser=organisation), f"{organisation.name} – {settings.SITE_NAME}"
    )


def feed_category(request, category):
    if category not in Category.values:
        raise Http404
    return _feed_response(
        selectors.events_for_feed(category=category), f"{Category(category).label} – {settings.SITE_NAME}"
    )


def feeds_page(request):
    links = []
    for value, label in Category.choices:
        url = request.build_absolute_uri(reverse("calendar_events:feed_category", args=[value]))
        links.append({"label": label, "url": url, "webcal": ical.webcal(url)})
    return render(request, "calendar_events/feeds.html", {"category_links": links, **_feed_links(request)})


# Booking ----------------------------------------------------------------------------------------


@login_required
@require_POST
def book(request, event_uuid):
    event = _event_or_404(request, event_uuid)
    require(request.user, "calendar_events.book", event)
    occurrence_start = _occurrence_param(request.POST.get("occurrence"))
    if occurrence_start is None:
        messages.error(request, _("Choose one of the event's dates to book."))
        return redirect(event)
    try:
        booking = services.book(
            event=event,
            occurrence_start=occurrence_start,
            user=request.user,
            join_waiting_list=request.POST.get("waiting_list") == "1",
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(event)
    if booking.status == Booking.Status.WAITING:
        messages.success(request, _("You are on the waiting list. We will email you if a place comes up."))
    else:
        messages.success(request, _("Your place is booked. We will email you a reminder the day before."))
    return redirect(event)


@login_required
@require_http_methods(["GET", "POST"])
def cancel_booking(request, booking_id):
    """Asks first (GET: which event, which date, keep it or cancel), cancels on POST."""
    booking = get_object_or_404(Booking.objects.select_related("event", "user"), pk=booking_id)
    if booking.user_id != request.user.pk and not can(request.user, "calendar_events.manage_bookings", booking.event):
        raise PermissionDenied
    back = next_url(request, booking.event)
    if request.method == "GET":
        return render(request, "calendar_events/cancel_booking.html", {"booking": booking, "back": back})
    try:
        services.cancel_booking(booking=booking, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The booking is cancelled."))
    return redirect(back)


@login_required
def my_bookings(request):
    return render(request, "calendar_events/my_bookings.html", {"bookings": selectors.bookings_of(request.user)})


@login_required
def attendees(request, event_uuid):
    event = _event_or_404(request, event_uuid)
    require(request.user, "calendar_events.manage_bookings", event)
    occurrence_start = _occurrence_param(request.GET.get("occurrence") or request.POST.get("occurrence"))
    fmt = request.GET.get("format")
    if fmt in exports.FORMATS:
        rows = (
            [
                timezone.localtime(b.occurrence_start),
                b.user.get_full_name(),
                b.user.email,
                b.organisation.name if b.organisation else "",
                b.get_status_display(),
                b.created_at,
                "" if b.attended is None else b.attended,
            ]
            for b in selectors.attendees(event, occurrence_start)
        )
        headers = [_("Date"), _("Name"), _("Email"), _("Organisation"), _("Status"), _("Booked at"), _("Attended")]
        return exports.tabular_response(
            filename=exports.dated_filename(f"attendees-{event.pk}"), headers=headers, rows=rows, fmt=fmt
        )
    bookings = list(selectors.attendees(event, occurrence_start))
    form = None
    if occurrence_start is not None:
        booked = [b for b in bookings if b.status == Booking.Status.BOOKED]
        form = AttendanceForm(
            request.POST or None, bookings=booked, initial={"attended": [str(b.pk) for b in booked if b.attended]}
        )
        if request.method == "POST" and form.is_valid():
            came = services.mark_attendance(
                event=event,
                occurrence_start=occurrence_start,
                attended_ids={int(pk) for pk in form.cleaned_data["attended"]},
                by=request.user,
            )
            messages.success(request, _("Attendance saved: %(n)s came.") % {"n": came})
            return redirect(
                f"{reverse('calendar_events:attendees', args=[event.uuid])}?occurrence={int(occurrence_start.timestamp())}"
            )
    dates = sorted({b.occurrence_start for b in selectors.attendees(event)})
    return render(
        request,
        "calendar_events/attendees.html",
        {
            "event": event,
            "bookings": bookings,
            "form": form,
            "occurrence_start": occurrence_start,
            "dates": [{"start": d, "ts": int(d.timestamp())} for d in dates],
            "ts": int(occurrence_start.timestamp()) if occurrence_start else "",
        },
    )


# Organisers' pages --------------------------------------------------------------------------------


def _organisation_for(request, action: str) -> Organisation | None:
    """The organisation named in ?organisation=, if the user may act for it (a choice form otherwise)."""
    slug = text_param(request.GET, "organisation", max_length=220) or text_param(
        request.POST, "organisation_slug", max_length=220
    )
    if not slug:
        return None
    organisation = get_object_or_404(Organisation, slug=slug)
    require(request.user, action, organisation)
    return organisation


def _choose_organisation(request, title: str, action: str):
    organisations = organisations_edited_by(request.user).filter(is_active=True)
    if request.user.is_network_admin:
        organisations = Organisation.objects.active()
    organisations = organisations.order_by("name")
    choice = OrganisationChoiceForm(organisations=organisations)
    choice.fields["organisation"].to_field_name = "slug"
    return render(
        request,
        "calendar_events/choose_organisation.html",
        {"form": choice, "title": title, "has_any": organisations.exists()},
    )


@login_required
def my_events(request):
    organisations = organisations_edited_by(request.user)
    events = Event.objects.filter(organiser__in=organisations).select_related("organiser").order_by("-start")
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "calendar_events/my_events.html",
        {
            "page": page,
            "feeds": selectors.feeds_of(organisations),
            "notices": selectors.notices_of(organisations)[:20],
        },
    )


@login_required
def event_create(request):
    organisation = _organisation_for(request, "calendar_events.post_for")
    if organisation is None:
        return _choose_organisation(request, _("Add an event"), "calendar_events.post_for")
    form = EventForm(request.POST or None, organiser=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.save_event(
                event=Event(organiser=organisation),
                data=form.service_data(),
                by=request.user,
                local_start=form.cleaned_data["starts"],
                local_end=form.cleaned_data["ends"],
            )
        except ValidationError as error:
            add_validation_errors(form, error, EVENT_FORM_FIELDS)
        else:
            if event.moderation == Event.Moderation.APPROVED:
                messages.success(request, _("The event is published."))
            else:
                messages.success(request, _("Thank you: the event will appear once a moderator has checked it."))
            return redirect(event)
    return render(
        request, "calendar_events/event_form.html", {"form": form, "organisation": organisation, "event": None}
    )


@login_required
def event_edit(request, event_uuid):
    event = _event_or_404(request, event_uuid)
    require(request.user, "calendar_events.change_event", event)
    form = EventForm(request.POST or None, instance=event, organiser=event.organiser)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_event(
                event=Event.objects.get(pk=event.pk),
                data=form.service_data(),
                by=request.user,
                local_start=form.cleaned_data["starts"],
                local_end=form.cleaned_data["ends"],
            )
        except ValidationError as error:
            add_validation_errors(form, error, EVENT_FORM_FIELDS)
        else:
            messages.success(
                request, _("The event is saved. Anyone booked has been told of any change of time, place or status.")
            )
            return redirect(event)
    return render(
        request, "calendar_events/event_form.html", {"form": form, "organisation": event.organiser, "event": event}
    )


@login_required
def location_create(request):
    organisation = _organisation_for(request, "calendar_events.add_location")
    if organisation is None:
        return _choose_organisation(request, _("Add a venue"), "calendar_events.add_location")
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = services.create_location(organisation=organisation, data=form.cleaned_data, by=request.user)
        except ValidationError as error:
            add_validation_errors(form, error, EVENT_FORM_FIELDS)
        else:
            messages.success(
                request, _("The venue %(name)s is added; you can now choose it for events.") % {"name": location.name}
            )
            return redirect(f"{reverse('calendar_events:event_create')}?organisation={organisation.slug}")
    return render(request, "calendar_events/location_form.html", {"form": form, "organisation": organisation})


@login_required
def feed_create(request):
    organisation = _organisation_for(request, "calendar_events.manage_feeds")
    if organisation is None:
        return _choose_organisation(request, _("Import your calendar"), "calendar_events.manage_feeds")
    form = FeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.register_feed(
                organisation=organisation,
                url=form.cleaned_data["url"],
                category=form.cleaned_data["category"],
                by=request.user,
            )
        except ValidationError as error:
            add_validation_errors(form, error, EVENT_FORM_FIELDS)
        else:
            messages.success(request, _("The feed is registered. It is imported within the hour and then every hour."))
            return redirect("calendar_events:my_events")
    return render(request, "calendar_events/feed_form.html", {"form": form, "organisation": organisation})


@login_required
def feed_detail(request, feed_id):
    feed = get_object_or_404(CalendarFeed.objects.select_related("organisation"), pk=feed_id)
    require(request.user, "calendar_events.manage_feeds", feed.organisation)
    if request.method == "POST" and request.POST.get("action") == "remove":
        services.remove_feed(feed=feed)
        messages.success(request, _("The feed is removed and its events are withdrawn from the calendar."))
        return redirect("calendar_events:my_events")
    return render(
        request,
        "calendar_events/feed_detail.html",
        {
            "feed": feed,
            "logs": selectors.feed_logs(feed),
            "event_count": feed.events.filter(is_withdrawn=False).count(),
        },
    )


# Notice board -------------------------------------------------------------------------------------


def notice_list(request):
    form = NoticeFilterForm(request.GET or None)
    q = category = ""
    if form.is_valid():
        q, category = form.cleaned_data["q"].strip(), form.cleaned_data["category"]
    page = Paginator(selectors.visible_notices(q=q, category=category), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "calendar_events/notice_list.html", {"form": form, "page": page, "filtered": bool(q or category)}
    )


def notice_detail(request, notice_uuid):
    notice = selectors.notice_page(notice_uuid)
    if notice is None or not can(request.user, "calendar_events.view_notice", notice):
        raise Http404
    return render(
        request,
        "calendar_events/notice_detail.html",
        {
            "notice": notice,
            "text": render_markdown(notice.text),
            "can_change": can(request.user, "calendar_events.change_notice", notice),
        },
    )


def notice_attachment(request, notice_uuid):
    """A notice's file, for whoever may see the notice: anyone once it is on the board; while it waits
    for moderation (or is hidden or expired), its organisation's people and moderators. Everyone else
    gets the same 404 as for a notice that does not exist."""
    notice = selectors.notice_page(notice_uuid)
    if notice is None or not notice.attachment or not can(request.user, "calendar_events.view_notice", notice):
        raise Http404
    extension = uploads.EXTENSIONS.get(notice.attachment_kind, "bin")
    return private_file_response(
        notice.attachment,
        filename=f"{slugify(notice.title)[:60] or 'notice'}.{extension}",
        file_type=notice.attachment_kind,
        # Images (checked by their content) show in the browser; PDFs download rather than open on our origin.
        as_attachment=notice.attachment_kind not in uploads.IMAGES,
    )


@login_required
def notice_create(request):
    organisation = _organisation_for(request, "calendar_events.post_for")
    if organisation is None:
        return _choose_organisation(request, _("Post a notice"), "calendar_events.post_for")
    form = NoticeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ("title", "text", "category", "expires_on")}
        try:
            notice = services.save_notice(
                notice=Notice(organisation=organisation),
                data=data,
                attachment=form.cleaned_data.get("attachment"),
                by=request.user,
            )
        except ValidationError as error:
            add_validation_errors(form, error, EVENT_FORM_FIELDS)
        else:
            if notice.status == Notice.Status.PUBLISHED:
                messages.success(request, _("The notice is on the board."))
            else:
                messages.success(request, _("Thank you: the notice will appear once a moderator has checked it."))
            return redirect(notice)
    return render(request, "calendar_events/notice_form.html", {"form": form, "organisation": organisation})


def notice_report(request, notice_uuid):
    notice = selectors.notice_page(notice_uuid)
    if notice is None or not can(request.user, "calendar_events.view_notice", notice):
        raise Http404
    form = NoticeReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_notice(
                notice=notice, reason=form.cleaned_data["reason"], details=form.cleaned_data["details"], by=request.user
            )
        except ValidationError as error:
            add_validation_errors(form, error, EVENT_FORM_FIELDS)
        else:
            messages.success(request, _("Thank you: a network admin will look at this notice."))
            return redirect(notice)
    return render(request, "calendar_events/notice_report.html", {"form": form, "notice": notice})


@login_required
def digest(request):
    form = DigestForm(
        request.POST if request.method == "POST" else None,
        initial={"subscribed": selectors.is_subscribed(request.user)},
    )
    if request.method == "POST" and form.is_valid():
        subscribed = form.cleaned_data["subscribed"]
        services.set_digest_subscription(user=request.user, subscribed=subscribed)
        messages.success(
            request, _("You will get the weekly email.") if subscribed else _("You will not get the weekly email.")
        )
        return redirect("calendar_events:digest")
    return render(request, "calendar_events/digest.html", {"form": form})
