"""The e-mail channel: one message over SMTP (smtplib), raising its own error that says whether to retry."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate


class EmailError(Exception):
    def __init__(self, message: str, *, code: int | None = None, retryable: bool):
        super().__init__(message)
        self.code, self.retryable = code, retryable


class EmailClient:
    """Sends through the configured relay; in development that is the local mail sink under var/mail."""

    def __init__(self, host: str, port: int, sender: str, *, user: str = "", password: str = "",
                 starttls: bool = False, timeout: float = 10.0):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def send(self, to: str, subject: str, text: str, html: str | None, message_id: str) -> str:
        """Send one message; `message_id` is stable per notice, so a receiver can drop a duplicate."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = message_id
        message.set_content(text)
        if html:
            message.add_alternative(html, subtype="html")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0]
            raise EmailError(f"recipient refused ({code})", code=code, retryable=code < 500) from None
        except smtplib.SMTPResponseException as exc:
            raise EmailError(f"SMTP {exc.smtp_code}", code=exc.smtp_code, retryable=exc.smtp_code < 500) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise EmailError(f"SMTP relay unreachable: {type(exc).__name__}", retryable=True) from None
        return message_id
