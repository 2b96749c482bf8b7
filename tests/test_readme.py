"""What the README tells people to do works: its example campaign loads as written."""

from __future__ import annotations

import re

import yaml

from rightsend.config import PROJECT_ROOT
from rightsend.decide.campaigns import parse_campaign


def test_readme_example_campaign_is_valid() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert block, "README should show an example campaign"
    campaign = parse_campaign(yaml.safe_load(block.group(1)), "README.md")
    assert campaign.id == "winter_boots"
    assert campaign.priority == 40
    assert [v.id for v in campaign.variants] == ["a", "b"]


def test_readme_first_screen_has_the_two_commands() -> None:
    first_screen = "\n".join((PROJECT_ROOT / "README.md").read_text().splitlines()[:25])
    assert "make run" in first_screen and "make test" in first_screen
