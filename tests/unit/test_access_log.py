from types import SimpleNamespace

from gunicorn.config import Config

from web.access_log import HEALTH_CHECK_AGENT, AccessLog


class Recording(AccessLog):
    def __init__(self):
        config = Config()
        config.set("accesslog", "-")
        super().__init__(config)
        self.lines = []

    def atoms(self, resp, req, environ, request_time):
        self.lines.append(environ["PATH_INFO"])
        return {}


def _request(path, agent, status):
    environ = {"PATH_INFO": path, "HTTP_USER_AGENT": agent, "REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1",
               "QUERY_STRING": ""}
    return SimpleNamespace(status=status, headers=[], sent=0, response_length=0), environ


def test_a_passing_load_balancer_check_is_not_logged_but_a_failing_one_and_other_probes_are():
    log = Recording()
    for path, agent, status in [("/healthz", HEALTH_CHECK_AGENT, "200 OK"), ("/healthz", HEALTH_CHECK_AGENT, "503 "),
                                ("/healthz", "curl/8", "200 OK"), ("/me", HEALTH_CHECK_AGENT, "200 OK")]:
        resp, environ = _request(path, agent, status)
        log.access(resp, SimpleNamespace(), environ, None)
    assert log.lines == ["/healthz", "/healthz", "/me"]
