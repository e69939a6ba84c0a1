"""gunicorn's access log without personal data: query strings and referrers keep their parameter names but lose
their values, and credentials and purposes are never written, whatever access-log format the operator picks.

A lookup such as `GET /api/v1/persons?id_number=…` carries a full ID number in its query string, and gunicorn's
default format writes the request line as it came (DESIGN §7: logs carry masked values only).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit

from gunicorn.glogging import Logger

MASK = "***"
# Request headers that are secrets or free text about a person: never in a log line.
UNLOGGED_HEADERS = ("authorization", "cookie", "x-purpose", "x-twilio-signature")
# The WSGI environ values that hold a URL with its query string.
ENVIRON_URLS = ("raw_uri", "request_uri", "http_referer")
# The load balancer's health check (web/loadbalancer.py) names itself: twice a second per instance, and only its
# failures say anything, so a passing one is not logged.
HEALTH_CHECK_AGENT = "lifecycle-lb-check"
UNLOGGED_ENVIRON = ("http_authorization", "http_cookie", "http_x_purpose", "http_x_twilio_signature")


def masked_query(query: str) -> str:
    """`id_number=440604…&as_of=2026-01-01` -> `id_number=***&as_of=***`: which parameters, never their values."""
    return "&".join(f"{name}={MASK}" for name, _value in parse_qsl(query, keep_blank_values=True))


def masked_url(url: str) -> str:
    """A path or URL with its query values masked and any fragment dropped."""
    if not url or url == "-":
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, masked_query(parts.query), ""))


class AccessLog(Logger):
    """`--logger-class web.access_log.AccessLog`: gunicorn's logger with every URL-bearing atom masked."""

    def access(self, resp, req, environ, request_time):
        if (environ.get("PATH_INFO") == "/healthz" and environ.get("HTTP_USER_AGENT") == HEALTH_CHECK_AGENT
                and str(getattr(resp, "status", "")).startswith("200")):
            return
        super().access(resp, req, environ, request_time)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        query = masked_query(environ.get("QUERY_STRING", ""))
        path = environ.get("PATH_INFO", "")
        atoms["q"] = query
        atoms["r"] = f"{environ['REQUEST_METHOD']} {path}{'?' + query if query else ''} {environ['SERVER_PROTOCOL']}"
        atoms["f"] = masked_url(atoms.get("f", "-"))
        atoms["{referer}i"] = masked_url(atoms.get("{referer}i", "-"))
        if "{query_string}e" in atoms:
            atoms["{query_string}e"] = query
        for name in ENVIRON_URLS:
            if f"{{{name}}}e" in atoms:
                atoms[f"{{{name}}}e"] = masked_url(str(atoms[f"{{{name}}}e"]))
        for name in UNLOGGED_HEADERS:
            atoms.pop(f"{{{name}}}i", None)
        for name in UNLOGGED_ENVIRON:
            atoms.pop(f"{{{name}}}e", None)
        return atoms
