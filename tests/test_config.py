"""Settings from FLOORPLAN_* variables take their default's type; production keys are strong."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest

from prescriptions import PROJECT_ROOT
from prescriptions.config import (
    DEFAULTS,
    DEV_SECRET_KEY,
    ConfigError,
    derived_audit_key,
    key_weakness,
    production_key_problems,
    refused_setting,
    session_settings,
    settings_from_environment,
)

README = PROJECT_ROOT / "README.md"

#: 32 bytes, 32 different characters, no repeated or consecutive run: just strong enough.
STRONG = "Zq3vT9xKp2LmW8rYc4NfB7hJd1GsE6uA"


def from_env(**variables: str) -> dict:
    """The settings that FLOORPLAN_<name>=<text> variables give."""
    environ = {f"FLOORPLAN_{name}": text for name, text in variables.items()}
    return settings_from_environment(environ, DEFAULTS)


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("IDLE_TIMEOUT", "900", timedelta(seconds=900)),  # the README's own example
        ("IDLE_TIMEOUT", "90.5", timedelta(seconds=90.5)),
        ("LOGIN_LIMIT_WINDOW", " 600 ", timedelta(minutes=10)),
        ("PATIENTS_PER_PAGE", "50", 50),
        ("PROXY_FIX_X_FOR", "1", 1),
        ("AUTO_MIGRATE", "false", False),
        ("AUTO_MIGRATE", "0", False),
        ("AUTO_MIGRATE", "Yes", True),
        ("SESSION_COOKIE_SECURE", "true", True),
        ("SECRET_KEY", "123456", "123456"),  # text stays text, never the number 123456
        ("SECRET_KEY", "true", "true"),
        ("ENV_NAME", '"production"', "production"),  # a JSON string is unquoted
        ("SQLALCHEMY_ENGINE_OPTIONS", '{"pool_size": 5}', {"pool_size": 5}),
        ("SQLALCHEMY_DATABASE_URI", "sqlite:///x.sqlite", "sqlite:///x.sqlite"),
        ("WTF_CSRF_TIME_LIMIT", "3600", 3600),  # no typed default: JSON where it parses
        ("FOOTER", "Clinic hours 9-5", "Clinic hours 9-5"),  # ... else the text
    ],
)
def test_a_variable_takes_the_type_of_its_default(name, text, value):
    settings = from_env(**{name: text})
    assert settings == {name: value}
    assert type(settings[name]) is type(value)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("IDLE_TIMEOUT", "15m", "a number of seconds"),
        ("IDLE_TIMEOUT", "0", "a number of seconds greater than 0"),
        ("IDLE_TIMEOUT", "-60", "a number of seconds greater than 0"),
        ("ABSOLUTE_TIMEOUT", "nan", "a number of seconds"),
        ("PATIENTS_PER_PAGE", "ten", "a whole number"),
        ("PATIENTS_PER_PAGE", "2.5", "a whole number"),
        ("PATIENTS_PER_PAGE", "0", "a whole number of at least 1"),
        ("PROXY_FIX_X_FOR", "-1", "a whole number of at least 0"),
        ("AUTO_MIGRATE", "maybe", "true or false"),
        ("SQLALCHEMY_ENGINE_OPTIONS", "[1, 2]", "a JSON object"),
        ("SQLALCHEMY_ENGINE_OPTIONS", "{pool_size: 5}", "a JSON object"),
        ("ENV_NAME", "prod", "'development' or 'production'"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_variable_and_what_it_expects(name, text, expected):
    with pytest.raises(ConfigError) as refused:
        from_env(**{name: text})
    message = str(refused.value)
    assert message.startswith(f"FLOORPLAN_{name}={text!r}: expected ")
    assert expected in message


def test_the_readme_configuration_section_is_true():
    section = README.read_text().split("## Configuration")[1].split("\n## ")[0]
    named = set(re.findall(r"`FLOORPLAN_([A-Z_]+)`", section))
    assert named - {"INSTANCE_PATH"} <= set(DEFAULTS) | {"SQLALCHEMY_DATABASE_URI"}
    for name in ("IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT", "LOGIN_LIMIT_WINDOW"):
        seconds = int(DEFAULTS[name].total_seconds())
        assert f" {seconds}" in section, name  # the stated default, in seconds
    with pytest.raises(ConfigError) as refused:
        from_env(IDLE_TIMEOUT="15m")
    assert f"`{refused.value}`" in " ".join(section.split())


def test_a_refused_secret_setting_is_not_echoed():
    with pytest.raises(ConfigError) as refused:
        settings_from_environment({"FLOORPLAN_API_TOKEN": "s3cr3t-value"}, {"API_TOKEN": 0})
    assert "FLOORPLAN_API_TOKEN" in str(refused.value)
    assert "s3cr3t-value" not in str(refused.value)


def test_variables_that_are_not_settings_stay_out_of_the_config():
    environ = {"FLOORPLAN_NEW_PASSWORD": "a password", "FLOORPLAN_INSTANCE_PATH": "/srv/x"}
    assert settings_from_environment(environ, DEFAULTS) == {}


@pytest.mark.parametrize(
    "name", ["PERMANENT_SESSION_LIFETIME", "REMEMBER_COOKIE_DURATION", "REMEMBER_COOKIE_SECURE"]
)
def test_settings_that_would_do_nothing_are_named(name):
    assert name in (refused_setting({name}) or "")
    assert refused_setting({"IDLE_TIMEOUT", "SECRET_KEY"}) is None


def test_the_signed_cookie_expires_just_after_the_idle_timeout():
    lifetime = session_settings({"IDLE_TIMEOUT": timedelta(seconds=900)})
    assert lifetime == {"PERMANENT_SESSION_LIFETIME": timedelta(seconds=960)}


# --- production keys (issue 12, item 3): both sides of each threshold ---------------------------


def test_length_threshold_is_32_bytes():
    assert key_weakness(STRONG) is None
    assert key_weakness(STRONG[:31]) == "it is 31 bytes long and at least 32 are needed"
    assert "1 byte long" in key_weakness("x")
    # Bytes, not characters: 11 three-byte characters are 33 bytes.
    assert len("€" * 11) == 11 and key_weakness("€" * 11).startswith("it has too little variety")


def test_variety_threshold_is_2_5_bits_per_character():
    six_symbols = "Mee%ze7%7Mzq%%z%q7zM7q7ezeq7MqMqeM%z"  # log2(6) = 2.58 bits
    five_symbols = "%7qM%%z7777%zqz%M7MMq7MMz%q%Mzqqzzq"  # log2(5) = 2.32 bits
    assert key_weakness(six_symbols) is None
    assert "too little variety (5 different characters, 2.3 bits" in key_weakness(five_symbols)
    assert "1 different character," in key_weakness("x" * 40)


def test_a_repeated_run_of_8_is_refused_and_of_7_is_not():
    assert key_weakness(STRONG + STRONG[:7]) is None
    assert key_weakness(STRONG + STRONG[:8]) == "a run of 8 characters appears in it twice"
    assert "appears in it twice" in key_weakness("Password1234" * 3)
    assert "appears in it twice" in key_weakness(DEV_SECRET_KEY * 2)


def test_8_consecutive_characters_are_refused_and_7_are_not():
    assert key_weakness(STRONG[:16] + "abcdefg" + STRONG[16:]) is None
    assert "'abcdefgh'" in key_weakness(STRONG[:16] + "abcdefgh" + STRONG[16:])
    assert "'76543210'" in key_weakness(STRONG[:16] + "76543210" + STRONG[16:])
    assert "consecutive" in key_weakness("abcdefghijklmnopqrstuvwxyz012345")


@pytest.mark.parametrize(
    "make",
    [
        lambda: secrets.token_urlsafe(48),  # the README's command
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_hex(16),
        lambda: secrets.token_hex(32),
        lambda: secrets.token_bytes(32),
    ],
)
def test_random_keys_pass(make):
    for _ in range(200):
        key = make()
        assert key_weakness(key) is None, key


def test_production_names_a_weak_secret_key():
    assert production_key_problems({"SECRET_KEY": STRONG}) == []
    assert production_key_problems({"SECRET_KEY": DEV_SECRET_KEY}) == [
        "FLOORPLAN_SECRET_KEY is unset or the development key"
    ]
    assert production_key_problems({"SECRET_KEY": ""}) == [
        "FLOORPLAN_SECRET_KEY is unset or the development key"
    ]
    (problem,) = production_key_problems({"SECRET_KEY": "x"})
    assert (
        problem == "FLOORPLAN_SECRET_KEY is too weak: it is 1 byte long and at least 32 are needed"
    )


@pytest.mark.parametrize(
    "audit_key",
    [
        "x",
        "k" * 40,
        STRONG[:31],
        DEV_SECRET_KEY,
        derived_audit_key(DEV_SECRET_KEY).hex(),  # what a development database was chained with
        derived_audit_key(DEV_SECRET_KEY),
    ],
)
def test_production_refuses_an_audit_key_equal_to_or_derived_from_a_weak_key(audit_key):
    problems = production_key_problems({"SECRET_KEY": STRONG, "AUDIT_KEY": audit_key})
    assert len(problems) == 1 and problems[0].startswith("FLOORPLAN_AUDIT_KEY is")


def test_an_audit_key_derived_from_the_weak_secret_in_use_is_named_too():
    weak = "short"
    problems = production_key_problems(
        {"SECRET_KEY": weak, "AUDIT_KEY": derived_audit_key(weak).hex()}
    )
    assert problems[1] == "FLOORPLAN_AUDIT_KEY is, or is derived from, a weak secret key"


def test_production_accepts_a_strong_audit_key_or_none():
    assert production_key_problems({"SECRET_KEY": STRONG, "AUDIT_KEY": STRONG[::-1]}) == []
    assert production_key_problems({"SECRET_KEY": STRONG, "AUDIT_KEY": ""}) == []
    assert production_key_problems({"SECRET_KEY": STRONG, "AUDIT_KEY": secrets.token_hex(32)}) == []
