"""The local haproxy's configuration as written (the running proxy is tested in test_two_web_instances.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.processes import PrerequisiteMissing
from web import loadbalancer
from web.loadbalancer import LocalLoadBalancer, find_haproxy


def balancer(tmp_path: Path) -> LocalLoadBalancer:
    return LocalLoadBalancer(tmp_path, 8080, [("127.0.0.1", 8001), ("127.0.0.1", 8002)], environ={"PATH": ""})


def test_the_config_names_the_callers_ports_and_checks_every_instance(tmp_path):
    config = balancer(tmp_path).config()
    assert "bind 127.0.0.1:8080" in config
    assert "server web1 127.0.0.1:8001 check" in config and "server web2 127.0.0.1:8002 check" in config
    assert "option httpchk" in config and "balance roundrobin" in config
    assert "http-check send meth GET uri /healthz" in config and "User-Agent lifecycle-lb-check" in config
    assert f"stats socket {tmp_path / 'haproxy.sock'}" in config


def test_the_proxy_writes_every_forwarded_header_the_app_believes(tmp_path):
    """With PROXY_HOPS=1 the app believes the last entry of each header: the proxy must write all four."""
    config = balancer(tmp_path).config()
    assert "option forwardfor" in config
    for header in ("X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port"):
        assert f"http-request set-header {header} " in config
    assert "http-request del-header X-Forwarded-Prefix" in config


def test_only_gets_are_retried_once_sent(tmp_path):
    config = balancer(tmp_path).config()
    assert "retry-on conn-failure empty-response" in config
    assert "http-request disable-l7-retry unless METH_GET" in config


def test_a_missing_haproxy_says_what_to_install(monkeypatch):
    monkeypatch.setattr(loadbalancer, "SBIN_DIRS", ())
    with pytest.raises(PrerequisiteMissing, match="apt-get install haproxy"):
        find_haproxy("")
