"""Campaign YAML: the shipped files load; bad files fail naming file, field and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightsend.decide.campaigns import CampaignError, load_campaigns
from rightsend.decide.rules import RulesError, load_rules

GOOD = """
id: ok
use_case: newsletter
priority: 10
audience: {all_customers: true}
channels: {allowed: [email], default: email}
active: {start: 2026-01-01}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def test_shipped_campaigns_load_and_cover_the_use_cases():
    campaigns = load_campaigns()
    use_cases = {c.use_case for c in campaigns}
    assert {"abandoned_cart", "browse_abandoned", "price_drop", "low_stock", "flash_sale", "newsletter",
            "cross_sell", "welcome", "win_back"} <= use_cases  # fmt: skip
    assert [c.priority for c in campaigns] == sorted((c.priority for c in campaigns), reverse=True)
    assert load_rules().caps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("priority: 10\n", ""), "field 'priority': Field required"),
        (GOOD.replace("default: email", "default: sms"), "default channel 'sms' is not in allowed ['email']"),
        (GOOD.replace("[email]", "[fax]"), "field 'channels.allowed.0'"),
        (GOOD + "variants: [{id: a, split: 0.5}, {id: b, split: 0.3}]\n", "split must add up to 1"),
        (GOOD + "holdout_share: 1.5\n", "field 'holdout_share'"),
        (GOOD + "tags: [newsletter]\n", "exactly one of 'promotional' or 'transactional'"),
        (GOOD.replace("{all_customers: true}", "{}"), "needs all_customers"),
        (GOOD + "colour: red\n", "field 'colour': Extra inputs are not permitted"),
        (GOOD.replace("{start: 2026-01-01}", "{start: 2026-02-01, end: 2026-01-01}"), "is before start"),
        (
            GOOD.replace("{all_customers: true}", "{trigger: {type: teleport}}"),
            "field 'audience.trigger.type'",
        ),
    ],
)
def test_invalid_campaign_errors_name_file_and_field(tmp_path, text, expected):
    folder = write(tmp_path, "bad.yaml", text)
    with pytest.raises(CampaignError) as err:
        load_campaigns(folder)
    assert str(tmp_path / "bad.yaml") in str(err.value)
    assert expected in str(err.value)


def test_duplicate_ids_bad_yaml_and_all_errors_together(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD)
    write(tmp_path, "c.yaml", "id: [unclosed")
    write(tmp_path, "d.yaml", "- just a list")
    with pytest.raises(CampaignError) as err:
        load_campaigns(tmp_path)
    msg = str(err.value)
    assert "b.yaml: field 'id': 'ok' is already used by" in msg
    assert "c.yaml: not valid YAML" in msg
    assert "d.yaml: expected a mapping of campaign fields, got list" in msg


def test_invalid_rules_are_reported(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "send_window: {start_hour: 8, end_hour: 21}\ndecide:\n  caps:\n    - {name: x, days: 0, max: 1}\n"
    )
    with pytest.raises(RulesError, match=r"field 'caps.0.days'"):
        load_rules(path)
    path.write_text("send_window: {start_hour: 21, end_hour: 8}\n")
    with pytest.raises(RulesError, match="end_hour"):
        load_rules(path)
