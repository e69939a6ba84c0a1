"""A LIFECYCLE_CATALOG kept outside the code is the catalog obeyed throughout, material kinds included: a kind only it
declares is accepted by the API and the import, and named among the kinds when an unknown one is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from profiles.config import Settings
from tests.integration.api_helpers import id_number, keys
from web import create_app

KIND = {"code": "fishing_licence", "name": {"zh": "捕捞许可证", "en": "Fishing licence"},
        "issuer": {"zh": "渔业主管部门", "en": "Fisheries authorities"}, "holder": "person", "expires": "always"}


@pytest.fixture
def app(live_environ: dict[str, str], settings: Settings, tmp_path: Path):
    """The app on a copy of the catalog with one more material kind."""
    catalog = tmp_path / "catalog"
    shutil.copytree(settings.catalog_dir, catalog, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = catalog / "materials.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["materials"].append(KIND)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    app = create_app(Settings.from_env({**live_environ, "LIFECYCLE_CATALOG": str(catalog)}))
    app.config["TESTING"] = True
    yield app
    app.extensions["lifecycle"].close()


def person(client, auth) -> str:
    created = client.post("/api/v1/persons", json={"id_number": id_number(), "name": "张三"}, headers=auth["system"])
    assert created.status_code == 201, created.get_json()
    return created.get_json()["pid"]


def test_a_kind_only_that_catalog_declares_is_accepted_by_the_api(app):
    assert "fishing_licence" in app.extensions["lifecycle"].catalog.materials
    client, auth = app.test_client(), keys(app)
    url = f"/api/v1/persons/{person(client, auth)}/materials"
    body = {"kind": "fishing_licence", "number": "YU2020-001", "issued_on": "2020-03-01", "expires_on": "2030-03-01",
            "issuer": "佛山市农业农村局", "provenance": "issued"}

    recorded = client.post(url, json=body, headers=auth["system"])

    assert recorded.status_code == 201, recorded.get_json()
    assert (recorded.get_json()["kind"], recorded.get_json()["version"]) == ("fishing_licence", 1)
    # the catalog's own rules for the kind hold too: it always expires
    refused = client.post(url, json={**body, "issued_on": "2021-03-01", "expires_on": None}, headers=auth["system"])
    assert refused.status_code == 422 and list(refused.get_json()["errors"]) == ["expires_on"]
    unknown = client.post(url, json={**body, "kind": "magic_scroll"}, headers=auth["system"])
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"]["kind"][0].startswith("unknown material kind; one of id_card, ")
    assert "fishing_licence" in unknown.get_json()["errors"]["kind"][0]


def test_the_import_takes_that_kind_too(app, tmp_path):
    runner = app.test_cli_runner()
    persons = tmp_path / "p.csv"
    persons.write_text(f"id_number,name\n{id_number()},张三\n", encoding="utf-8")
    assert "imported 1, rejected 0" in runner.invoke(args=["import", "persons", str(persons)]).stdout
    materials = tmp_path / "m.csv"
    materials.write_text("holder_id_number,kind,number,issued_on,expires_on,issuer,provenance\n"
                         f"{id_number()},fishing_licence,YU1,2020-03-01,2030-03-01,渔业局,issued\n", encoding="utf-8")

    result = runner.invoke(args=["import", "materials", str(materials)])

    assert "imported 1, rejected 0" in result.stdout, result.output
