"""The words of the officers' desk (queue, decision page, dashboard and its lists): statuses as labels, time left
and time limits with English plurals right, and why a delivery failed, in plain words from the provider's code."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# Offered for a list of people (the queue's names, the dashboard's lists); any other text may be typed.
LIST_PURPOSES = (_l("Deciding the department's applications"), _l("Reviewing applications near their time limit"),
                 _l("Checking reminders that did not arrive"), _l("Supervising the handling of applications"))
# An application's status as a label (capitalised: it stands alone in a badge or a card).
STATUS_LABEL = {"draft": _l("Draft"), "submitted": _l("Submitted"), "needs_correction": _l("Needs correction"),
                "approved": _l("Approved"), "rejected": _l("Rejected"), "withdrawn": _l("Withdrawn"),
                "settled": _l("Settled by a filing")}
# Where a submitted application stands against its statutory time limit (profiles.applications.card).
CARD_LABEL = {"none": _l("On time"), "yellow": _l("Yellow card"), "red": _l("Red card")}
NOTICE_STATUS = {"pending": _l("Waiting to be sent"), "sending": _l("Being sent"),
                 "sent": _l("Sent, not yet confirmed"),
                 "delivered": _l("Delivered"), "undelivered": _l("Not delivered"), "failed": _l("Failed"),
                 "skipped": _l("Not sent (skipped)"), "cancelled": _l("Cancelled")}
CHANNEL = {"inbox": _l("Inbox on the personal page"), "sms": _l("SMS"), "email": _l("E-mail")}
FAILED = ("failed", "undelivered")
# The provider's codes (Twilio's, and SMTP replies for e-mail) in words a supervisor can act on.
REASONS = {"21211": _l("not a valid phone number"), "21610": _l("the person unsubscribed from SMS"),
           "21614": _l("the number cannot receive SMS (not a mobile)"),
           "21612": _l("the provider cannot reach this number"), "21408": _l("SMS to this region is not enabled"),
           "30003": _l("the phone was switched off or unreachable"), "30004": _l("the recipient blocked the message"),
           "30005": _l("unknown or inactive number"), "30006": _l("a landline or unreachable carrier"),
           "30007": _l("filtered by the carrier as spam"), "30008": _l("unknown error at the carrier"),
           "unknown_after_crash": _l("interrupted while sending; not sent again so as not to send it twice")}


def status_label(status: str | None) -> str:
    return str(STATUS_LABEL.get(status or "", status or "—"))


def card_label(card: str) -> str:
    return str(CARD_LABEL.get(card, card))


def notice_status(status: str | None) -> str:
    return str(NOTICE_STATUS.get(status or "", status or "—"))


def channel_label(channel: str | None) -> str:
    return str(CHANNEL.get(channel or "", channel or "—"))


def time_left(days: int | None) -> str:
    """Calendar days to the decision date, said as a person would ("1 day left", "due today", "2 days overdue")."""
    if days is None:
        return "—"
    if days < 0:
        return _("1 day overdue") if days == -1 else _("%(n)d days overdue", n=-days)
    if days == 0:
        return _("due today")
    return _("1 day left") if days == 1 else _("%(n)d days left", n=days)


def working_days(n: int) -> str:
    """A statutory time limit (承诺时限), counted in working days."""
    return _("1 working day") if n == 1 else _("%(n)d working days", n=n)


def reason(code: str | None) -> str:
    """Why a delivery failed, from the provider's code, with the code kept as a detail for the provider's desk."""
    if not code:
        return _("no reason given by the provider")
    if code.startswith("retries_exhausted"):
        return _("the provider kept failing; given up after several tries")
    known = REASONS.get(code)
    if known is None and code.isdigit() and len(code) == 3:  # an SMTP reply code from the mail server
        return _("the mail server refused it (code %(code)s)", code=code)
    if known is None:
        return _("the provider's code %(code)s", code=code)
    return _("%(reason)s (code %(code)s)", reason=known, code=code)
