"""`catalog preview`: before enabling a changed rule, see per service who becomes due or stops being due."""

from datetime import date, timedelta

import yaml

from profiles.config import PROJECT_ROOT
from tests.integration.api_helpers import id_number, keys


def test_preview_counts_who_a_changed_rule_adds_and_drops(app, client, tmp_path):
    auth = keys(app)
    as_of = date.today()
    # Two teenagers turning 16 within the month, one turning 17 within the month.
    births = [as_of - timedelta(days=16 * 365 - 10), as_of - timedelta(days=16 * 365 - 20),
              as_of - timedelta(days=17 * 365 - 15)]
    for i, born in enumerate(births):
        response = client.post("/api/v1/persons", headers=auth["system"],
                               json={"id_number": id_number(born=born, seq=300 + i), "name": "少年"})
        assert response.status_code == 201, response.get_json()

    changed = yaml.safe_load((PROJECT_ROOT / "profiles/catalog/services/id_card_first.yaml").read_text("utf-8"))
    age_trigger = next(t for t in changed["triggers"] if t["kind"] == "age")
    age_trigger["age"] = 17
    changed["version"] += 1
    path = tmp_path / "id_card_first.yaml"
    path.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["catalog", "preview", str(path), "--as-of", as_of.isoformat(),
                                                "--within", "60"])
    assert result.exit_code == 0, result.output
    [line] = [row for row in result.output.splitlines() if row.strip().startswith("id_card_first")]
    assert line.split()[1:5] == ["2", "1", "+1", "-2"] and "<- changes" in line


def test_preview_refuses_a_broken_change(app, tmp_path):
    path = tmp_path / "id_card_first.yaml"
    path.write_text("code: id_card_first\nversion: 0\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["catalog", "preview", str(path), "--as-of", "2026-01-01"])
    assert result.exit_code == 1 and "services/id_card_first.yaml: version" in result.output
