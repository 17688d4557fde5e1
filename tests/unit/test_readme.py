from __future__ import annotations

from backoffice.config import PROJECT_ROOT, SETTINGS

README = (PROJECT_ROOT / "README.md").read_text()


def test_the_readme_opens_with_the_two_commands():
    opening = README[:800]
    assert "make run" in opening and "make test" in opening


def test_every_setting_is_in_the_readme_table_with_its_default():
    for setting in SETTINGS:
        default = "" if setting.default is None else f"`{setting.default}`"
        assert f"| `{setting.env}` | {default} |" in README, setting.env
