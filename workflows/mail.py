"""Sending e-mail through the SMTP server named in the settings (standard library only).

Mail is optional: with no `SMTP_HOST` setting nothing is sent. The settings come from
the environment (`webapp/config.py`): XUEJI_SMTP_HOST, XUEJI_SMTP_PORT, XUEJI_SMTP_FROM,
XUEJI_SMTP_USER, XUEJI_SMTP_PASSWORD, XUEJI_SMTP_TLS (`starttls`, `ssl` or `none`;
`starttls` by default when a user is set, else `none`).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

log = logging.getLogger(__name__)
SETTING_KEYS = (
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_FROM",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_TLS",
    "SMTP_TIMEOUT",
)
TLS_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def settings(config: Mapping) -> dict | None:
    """The SMTP settings of an app's config, or None when mail is not set up."""
    if not config.get("SMTP_HOST"):
        return None
    return {key: config.get(key) for key in SETTING_KEYS}


def _message(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    msg.set_content(mail.body, charset="utf-8")
    return msg


def send(mails: Iterable[Mail], smtp: Mapping) -> int:
    """Send `mails` over one connection; returns how many the server accepted.

    A refused recipient is logged and the rest still go; a connection failure raises
    (the caller logs it: mail never undoes work that is already committed).
    """
    mails = list(mails)
    if not mails:
        return 0
    tls = (smtp.get("SMTP_TLS") or ("starttls" if smtp.get("SMTP_USER") else "none")).lower()
    if tls not in TLS_MODES:
        raise ValueError(f"XUEJI_SMTP_TLS 应为 {'、'.join(TLS_MODES)} 之一，而不是“{tls}”。")
    host = smtp["SMTP_HOST"]
    port = int(smtp.get("SMTP_PORT") or (465 if tls == "ssl" else 25))
    timeout = float(smtp.get("SMTP_TIMEOUT") or 10)
    sender = smtp.get("SMTP_FROM") or smtp.get("SMTP_USER") or "xueji@localhost"
    context = ssl.create_default_context()
    if tls == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        conn = smtplib.SMTP(host, port, timeout=timeout)
    sent = 0
    with conn:
        if tls == "starttls":
            conn.starttls(context=context)
        if smtp.get("SMTP_USER"):
            conn.login(smtp["SMTP_USER"], smtp.get("SMTP_PASSWORD") or "")
        for mail in mails:
            try:
                conn.send_message(_message(mail, sender))
                sent += 1
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
                log.warning("mail to %s refused: %s", mail.to, exc)
    return sent
