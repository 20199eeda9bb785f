"""One settings model (issue 13, docs/adr/0041): every ``REITTI_*`` variable the code names
is a field of ``ReittiConfig``, only the config modules read the environment for one, and
the runtime's and the operator's sections behave as the settings they replaced."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.config import DEFAULT_MUNICIPALITIES, URLS_MISSING, ConfigError, RuntimeSection, Settings
from runtime.flat_settings import read_section, variable
from runtime.operator_config import OperatorSection, kek_directory
from services.settings import SECTIONS, ReittiConfig
from tests.support import sources

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("runtime", "services", "reitti")
#: the modules that define the model and its reader: the only ones that read the environment
CONFIG_MODULES = {
    "runtime/flat_settings.py",
    "runtime/config.py",
    "runtime/operator_config.py",
    "services/settings.py",
}
#: ``REITTI_*`` names that are not Reitti's settings: variables of the NATS server's own
#: configuration (deploy/nats/passwords.inc, compose.yaml), which nats-server reads, and
#: which Reitti only writes into the files it generates
NOT_SETTINGS = {
    "REITTI_*": "every variable, as the documents say it",
    "REITTI_NATS_INTERNAL_PASSWORD": "the internal user's password, a NATS variable",
    "REITTI_NATS_*_PASSWORD": "a partner feed's password, a NATS variable",
    "REITTI_NATS_PASSWORDS_FILE": "compose.yaml's path of passwords.inc",
}
VARIABLE = re.compile(r"REITTI_[A-Z0-9_*]*[A-Z0-9*]")
READ_METHODS = {"get", "pop", "__getitem__", "__contains__"}
URLS = {"REITTI_NATS_URL": "nats://n:4222", "REITTI_DATABASE_URL": "postgresql://p/reitti"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sources.python_files(package):
            yield path.relative_to(ROOT).as_posix(), sources.tree(path)


def string_texts(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Every string literal of ``tree``; an f-string with ``*`` where a value goes."""
    inside_fstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                parts.append(value.value if isinstance(value, ast.Constant) else "*")
            yield node.lineno, "".join(str(p) for p in parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in inside_fstrings:
            yield node.lineno, node.value


def model_variables() -> set[str]:
    return {variable(name) for section in SECTIONS.values() for name in section.model_fields}


def named_variables(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for line, text in string_texts(tree):
        for name in VARIABLE.findall(text):
            yield line, name


def test_every_reitti_variable_the_code_names_is_a_field_of_the_model() -> None:
    fields = model_variables()
    unknown = [
        f"{path}:{line}: {name}"
        for path, tree in modules()
        for line, name in named_variables(tree)
        if name not in fields and name not in NOT_SETTINGS
    ]
    assert unknown == [], "add the setting to the model (services/settings.py or runtime/config.py)"


def test_a_variable_the_model_lacks_is_found_in_a_string_an_f_string_or_a_message() -> None:
    tree = ast.parse(
        'import os\nos.environ.get("REITTI_NEW_THING")\nf"REITTI_OTHER_{x}_SUFFIX"\n'
        'raise ValueError("REITTI_TIME_ZONE and REITTI_THIRD")\n'
    )
    found = {name for _, name in named_variables(tree)} - model_variables()
    assert found == {"REITTI_NEW_THING", "REITTI_OTHER_*_SUFFIX", "REITTI_THIRD"}


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _names_a_variable(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("REITTI_")


def _environ_use(node: ast.expr, parent: ast.AST | None) -> str | None:
    """What a use of ``os.environ`` does, if it reads it."""
    if isinstance(parent, ast.Attribute):
        return None if parent.attr in ("setdefault", "update") else f"os.environ.{parent.attr}"
    copied = isinstance(parent, ast.Call) and getattr(parent.func, "id", None) == "dict"
    unpacked = isinstance(parent, ast.Dict) and None in parent.keys
    written = isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Store)
    return None if copied or unpacked or written else "reads os.environ"


def _read_by_name(node: ast.AST) -> str | None:
    """A mapping read by a variable's name: a copy of the environment is the environment."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in READ_METHODS
        and node.args
        and _names_a_variable(node.args[0])
    ):
        return f".{node.func.attr}({ast.unparse(node.args[0])})"
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _names_a_variable(node.slice):
        return f"[{ast.unparse(node.slice)}]"
    if (
        isinstance(node, ast.Compare)
        and _names_a_variable(node.left)
        and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
    ):
        return f"{ast.unparse(node.left)} in ..."
    return None


def environment_reads(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Where ``tree`` reads the environment, or a mapping by a ``REITTI_*`` name. Allowed:
    copying ``os.environ`` for a child process (``dict(os.environ)``, ``{**os.environ}``)
    and setting a variable for one (``os.environ.setdefault``, ``env[...] = ...``)."""
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if {a.name for a in node.names} & {"environ", "getenv", "getenvb"}:
                yield line, "imports the environment from os"
        elif (isinstance(node, ast.Attribute) and node.attr in ("getenv", "getenvb")) or (
            isinstance(node, ast.Name) and node.id in ("getenv", "getenvb")
        ):
            yield line, "getenv"
        elif (
            _is_environ(node)
            and isinstance(node, ast.expr)
            and (use := _environ_use(node, parents.get(id(node))))
        ):
            yield line, use
        if what := _read_by_name(node):
            yield line, what


def test_only_the_config_modules_read_the_environment() -> None:
    raw = [
        f"{path}:{line}: {what}"
        for path, tree in modules()
        if path not in CONFIG_MODULES
        for line, what in environment_reads(tree)
    ]
    assert raw == [], "read the setting from the model (ReittiConfig, or read_section in runtime)"


@pytest.mark.parametrize(
    "source",
    [
        'import os\nkey = os.environ.get("REITTI_TOKEN")\n',
        'import os\nkey = os.environ["REITTI_TOKEN"]\n',
        'import os\nkey = os.getenv("REITTI_TOKEN")\n',
        "import os\nsource = os.environ if env is None else env\n",
        'import os\nfound = "REITTI_TOKEN" in os.environ\n',
        "from os import environ\n",
        'env = dict(os.environ)\nif env.get("REITTI_JWT_PUBLIC_KEY"):\n    pass\n',
    ],
)
def test_a_raw_read_is_found(source: str) -> None:
    assert list(environment_reads(ast.parse(source))) != []


def test_copying_and_setting_the_environment_for_a_child_is_not_a_read() -> None:
    source = (
        "import os\nenv = dict(os.environ)\nenv2 = {**os.environ, 'PGPASSWORD': 'x'}\n"
        "os.environ.setdefault('REITTI_KEY_ENCRYPTION_KEY_DIR', 'd')\n"
        "env['REITTI_JWT_PUBLIC_KEY'] = 'p'\nenv.setdefault('REITTI_RETENTION_SWEEP_HOURS', '0')\n"
    )
    assert list(environment_reads(ast.parse(source))) == []


# --- the runtime section --------------------------------------------------------------


def test_the_model_reads_without_urls_where_it_did_and_says_how_to_give_them() -> None:
    config = ReittiConfig.from_env({})
    assert (config.runtime.nats_url, config.runtime.database_url) == (None, None)
    assert config.runtime.external_urls() is None
    assert config.runtime.municipalities == DEFAULT_MUNICIPALITIES
    with pytest.raises(ConfigError) as missing:
        config.settings()
    assert str(missing.value) == URLS_MISSING
    assert "REITTI_DATA_DIR" in URLS_MISSING and "connection.env" in URLS_MISSING


def test_the_runtime_section_of_the_model_is_the_settings_of_before() -> None:
    env = {**URLS, "REITTI_NAMESPACE": "ns", "REITTI_LAG_LIMIT": "2.5", "REITTI_MUNICIPALITIES": "Puumala"}
    settings = ReittiConfig.from_env(env).settings()
    assert settings == Settings.from_env(env)
    assert isinstance(settings, Settings)
    assert (settings.namespace, settings.lag_limit, settings.municipalities) == ("ns", 2.5, ("Puumala",))
    assert (settings.events_stream, settings.dead_letter_stream, settings.feeds_stream) == (
        "NS_EVENTS",
        "NS_DLQ",
        "NS_FEEDS",
    )
    assert (settings.max_deliver, settings.ack_wait, settings.duplicate_window) == (5, 5.0, 86400.0)


def test_the_urls_and_the_key_stay_out_of_repr(tmp_path: Path) -> None:
    key = tmp_path / "issuer.pem"
    key.write_text("-----BEGIN PUBLIC KEY-----\nsecret-ish\n", encoding="utf-8")
    env = {
        "REITTI_NATS_URL": "nats://internal:pw1@n",
        "REITTI_DATABASE_URL": "postgresql://u:pw2@p/x",
        "REITTI_JWT_PUBLIC_KEY": str(key),
        "REITTI_TOKEN": "tok-123",
    }
    config = ReittiConfig.from_env(env)
    assert config.settings().jwt_public_key == key.read_text(encoding="utf-8"), "the file's text"
    shown = repr(config) + repr(config.settings())
    assert not any(secret in shown for secret in ("pw1", "pw2", "secret-ish", "tok-123"))


def test_an_unreadable_public_key_names_its_variable_and_a_blank_one_is_unset() -> None:
    with pytest.raises(
        ConfigError, match=re.escape("REITTI_JWT_PUBLIC_KEY /nonexistent/key.pem: No such file")
    ):
        ReittiConfig.from_env({"REITTI_JWT_PUBLIC_KEY": "/nonexistent/key.pem"})
    assert ReittiConfig.from_env({"REITTI_JWT_PUBLIC_KEY": ""}).runtime.jwt_public_key is None


@pytest.mark.parametrize(
    ("name", "wrong", "message"),
    [
        ("REITTI_MAX_DELIVER", "many", "REITTI_MAX_DELIVER must be a whole number"),
        ("REITTI_MAX_DELIVER", "0", "REITTI_MAX_DELIVER must be at least 1"),
        ("REITTI_STREAM_REPLICAS", "0", "REITTI_STREAM_REPLICAS must be at least 1"),
        ("REITTI_ACK_WAIT", "soon", "REITTI_ACK_WAIT must be a number of seconds, not 'soon'"),
        ("REITTI_LAG_LIMIT", "0", "REITTI_LAG_LIMIT must be a positive number of seconds"),
        ("REITTI_DUPLICATE_WINDOW", "-1", "REITTI_DUPLICATE_WINDOW must be a positive number of seconds"),
        ("REITTI_MAX_BODY_BYTES", "100", "REITTI_MAX_BODY_BYTES must be at least 1024"),
        ("REITTI_MAX_IMPORT_BYTES", "1k", "REITTI_MAX_IMPORT_BYTES must be a whole number of bytes"),
        ("REITTI_MUNICIPALITIES", "Mikkeli,mikkeli", "REITTI_MUNICIPALITIES: 'Mikkeli' and 'mikkeli'"),
        ("REITTI_NAMESPACE", "Bad.Name", "namespace 'Bad.Name'"),
        ("REITTI_NATS_SYNC_INTERVAL", "1d", "REITTI_NATS_SYNC_INTERVAL '1d'"),
    ],
)
def test_a_wrong_runtime_or_operator_value_is_a_config_error_naming_it(
    name: str, wrong: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        ReittiConfig.from_env({**URLS, name: wrong})


def test_settings_built_in_code_are_checked_and_with_checks_again() -> None:
    settings = Settings(nats_url="nats://x", database_url="postgresql://x")
    assert settings.with_(lag_limit=1.0).lag_limit == 1.0
    assert settings.with_(municipalities=("  Puumala ",)).municipalities == ("Puumala",)
    with pytest.raises(ConfigError, match="REITTI_MAX_DELIVER must be at least 1"):
        settings.with_(max_deliver=0)
    with pytest.raises(ConfigError, match="REITTI_NATS_URL"):
        Settings(database_url="postgresql://x")  # type: ignore[call-arg]  # the missing URL is the point
    with pytest.raises(ConfigError, match="REITTI_ACK_WAIT"):
        Settings(nats_url="nats://x", database_url="postgresql://x", ack_wait=0)
    with pytest.raises(ConfigError, match="REITTI_NOT_A_SETTING"):
        settings.with_(not_a_setting=1)
    with pytest.raises(ValueError, match="frozen"):
        settings.lag_limit = 2.0  # type: ignore[misc]  # frozen is the point


def test_settings_from_env_is_the_model_s_reading() -> None:
    assert Settings.from_env(URLS) == read_section(RuntimeSection, URLS).settings()
    with pytest.raises(ConfigError, match="REITTI_DATABASE_URL is not set"):
        read_section(RuntimeSection, {"REITTI_NATS_URL": "nats://n"}).external_urls()


# --- the operator section -------------------------------------------------------------


def test_the_operator_section_and_its_defaults(tmp_path: Path) -> None:
    default = ReittiConfig.from_env({}).operator
    assert default.data_dir.name == "reitti"
    assert default.kek_directory == default.data_dir / "keys" / "kek"
    assert (default.nats_sync_interval, default.token, default.jwt_private_key) == ("2m", None, None)
    assert default.signing_key(tmp_path) == tmp_path / "keys" / "token-signing.key"
    given = ReittiConfig.from_env(
        {
            "REITTI_DATA_DIR": str(tmp_path / "data"),
            "REITTI_NATS_SYNC_INTERVAL": "always",
            "REITTI_JWT_PRIVATE_KEY": str(tmp_path / "signing.key"),
            "REITTI_TOKEN": "tok",
        }
    ).operator
    assert given.kek_directory == tmp_path / "data" / "keys" / "kek"
    assert given.nats_sync_interval == "always"
    assert given.signing_key(tmp_path / "elsewhere") == tmp_path / "signing.key"
    assert given.token == "tok"
    assert read_section(OperatorSection, {"REITTI_KEY_ENCRYPTION_KEY_DIR": "~/kek"}).kek_directory == (
        Path("~/kek").expanduser()
    )


def test_the_kek_directory_is_read_through_the_model_on_each_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REITTI_KEY_ENCRYPTION_KEY_DIR", str(tmp_path / "one"))
    assert kek_directory() == tmp_path / "one"
    monkeypatch.setenv("REITTI_KEY_ENCRYPTION_KEY_DIR", str(tmp_path / "two"))
    assert kek_directory() == tmp_path / "two"
    monkeypatch.delenv("REITTI_KEY_ENCRYPTION_KEY_DIR")
    monkeypatch.setenv("REITTI_DATA_DIR", str(tmp_path / "data"))
    assert kek_directory() == tmp_path / "data" / "keys" / "kek"


def test_the_table_has_a_row_for_every_section() -> None:
    assert list(SECTIONS) == ["runtime", "operator", "shared", "intake", "guidance", "reporting", "desk"]
    table = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name in ("REITTI_NATS_URL", "REITTI_DATA_DIR", "REITTI_TOKEN", "REITTI_NATS_SYNC_INTERVAL"):
        assert f"| `{name}` |" in table
