"""The live catalog: loaded at start (a broken one stops the app), checked by the CLI, served by the API."""

import shutil

import pytest
import yaml
from click.testing import CliRunner

from profiles.catalog import CatalogError, load_catalog
from profiles.config import Settings
from tests.integration.api_helpers import keys
from web import cli, create_app

SEEDED = {"id_card_renewal", "id_card_first", "passport_renewal", "driving_licence_renewal",
          "residence_permit_endorsement", "primary_school_entry", "birth_bundle", "retirement_pension_claim",
          "resident_medical_insurance_contribution", "enterprise_annual_report", "food_business_permit_renewal"}


def test_the_seeded_catalog_is_sound_and_complete(settings):
    catalog = load_catalog(settings.catalog_dir)
    assert set(catalog.services) >= SEEDED
    for service in catalog.services.values():
        assert service.sources, f"{service.code} cites no source"
    for child in catalog.services["birth_bundle"].bundle:
        assert child in catalog.services


def test_catalog_check_reports_ok_and_names_problems(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("LIFECYCLE_CATALOG", str(settings.catalog_dir))
    runner = CliRunner()
    ok = runner.invoke(cli.catalog_check, [str(settings.catalog_dir)])
    assert ok.exit_code == 0 and ok.output.startswith("catalog OK: ")

    broken = tmp_path / "catalog"
    shutil.copytree(settings.catalog_dir, broken, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = broken / "services" / "id_card_renewal.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["time_limit_days"] = "soon"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(cli.catalog_check, [str(broken)])
    assert result.exit_code == 1
    assert "services/id_card_renewal.yaml: time_limit_days: Not a valid integer." in result.output


def test_the_app_does_not_start_on_a_broken_catalog(live_environ, tmp_path):
    (tmp_path / "services").mkdir()
    (tmp_path / "materials.yaml").write_text("version: 1\nmaterials: []\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"materials\.yaml: materials: Shorter than minimum length 1"):
        create_app(Settings.from_env({**live_environ, "LIFECYCLE_CATALOG": str(tmp_path)}))


def test_the_api_serves_the_catalog(app, client):
    auth = keys(app)
    listed = client.get("/api/v1/catalog/services", headers=auth["officer"])
    assert listed.status_code == 200
    codes = {s["code"] for s in listed.get_json()}
    assert codes >= SEEDED
    first = listed.get_json()[0]
    assert set(first) == {"code", "name", "audience", "department", "time_limit_days", "stage", "nature"}
    by_code = {s["code"]: s for s in listed.get_json()}
    assert (by_code["childcare_subsidy_claim"]["stage"], by_code["childcare_subsidy_claim"]["nature"]) == (
        "birth", "offer")
    assert (by_code["enterprise_annual_report"]["stage"], by_code["enterprise_annual_report"]["nature"]) == (
        "operation", "deadline")
    stages = client.get("/api/v1/catalog/stages", headers=auth["officer"]).get_json()
    person = next(life for life in stages if life["audience"] == "person")
    assert [st["name"]["zh"] for st in person["stages"]][:2] == ["出生", "教育"]
    assert "childcare_subsidy_claim" in person["stages"][0]["services"]
    item = client.get("/api/v1/catalog/services/id_card_renewal", headers=auth["system"]).get_json()
    assert item["audience"] == "person" and item["triggers"][0]["kind"] == "expiry"
    assert item["scenarios"] and item["fields"] and item["sources"]
    missing = client.get("/api/v1/catalog/services/no_such_service", headers=auth["officer"])
    assert missing.status_code == 404 and "code" in missing.get_json()["errors"]
    assert client.get("/api/v1/catalog/services").status_code == 401


def test_catalog_stages_prints_the_coverage_table_of_both_lifecycles(settings):
    result = CliRunner().invoke(cli.catalog_stages, [str(settings.catalog_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("个人全生命周期") and any(line.startswith("经营主体全生命周期") for line in lines)
    row = next(line for line in lines if line.strip().startswith("出生"))
    assert "birth" in row and "childcare_subsidy_claim (offer)" in row and "newborn_hukou_registration" in row
    row = next(line for line in lines if line.strip().startswith("纳税缴费"))
    assert "corporate_income_tax_annual_filing" in row
    assert "国办发〔2025〕24号" in result.output
