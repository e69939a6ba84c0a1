"""What a person says about their notices: one was read (in the inbox, or reported by a department's app), and how
they want to be reached (channels, language, quiet hours, SMS opt-out)."""

from __future__ import annotations

from datetime import datetime

from profiles.models import Actor
from profiles.notices import Preferences


def mark_read(services, actor: Actor, nid: str, at: datetime) -> None:
    """The notice was opened: an unread reminder is what escalates to the next channel; the first time is kept."""
    services.notices.mark_read(nid, at)


def set_preferences(services, actor: Actor, pid: str, prefs: Preferences, at: datetime,
                    sms_opt_out: bool | None = None) -> Preferences:
    """Replace how the person wants to be reached; with `sms_opt_out`, also stop SMS (True) or allow it again
    (False, when they had opted out) — as the STOP reply to an SMS does."""
    saved = services.preferences.set(pid, prefs, at)
    if sms_opt_out:
        services.preferences.opt_out_sms(pid, "chosen on the personal page", at)
    elif sms_opt_out is False:
        services.personal.lift_sms_opt_out(pid, at)
    return saved
