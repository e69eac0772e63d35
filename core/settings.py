"""The one typed settings object, read once from the environment (and `.env`).

Every setting is documented in `.env.example`. Paths are resolved against the project
root so that the processes agree whatever directory they are started from.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# The header with which the gateway (and the bench, the evaluation, the tests) present the
# Rasa API token to Rasa's REST channel (scripts/rasa_channel.py).
RASA_CHANNEL_HEADER = "X-Rasa-Token"


class SettingsError(ValueError):
    """A setting has a value the product cannot run with."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _positive(env: dict[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    rasa_tracker_url: str
    redis_url: str | None
    rasa_host: str
    rasa_port: int
    rasa_token: str
    action_server_host: str
    action_server_port: int
    gateway_host: str
    gateway_port: int
    model_dir: Path
    var_dir: Path
    log_level: str
    # --- gateway (bot/); documented in .env.example ---
    # The gateway's event loop: uvloop (libuv, about a tenth less CPU per turn) or the
    # standard library's asyncio (for asyncio's debug mode, or a platform uvloop lacks).
    gateway_event_loop: str = "uvloop"
    gateway_allowed_origins: tuple[str, ...] = ()
    gateway_secure_cookies: bool = False
    session_secret: str = ""
    session_max_age_hours: int = 12
    opening_hours: str = "mon-fri 08:00-16:30"
    opening_timezone: str = "Europe/Stockholm"
    opening_closed_dates: tuple[str, ...] = ()
    advisor_timeout_seconds: int = 120
    queue_minutes_per_chat: int = 6
    max_message_chars: int = 2000
    rate_limit_messages: int = 8
    rate_limit_window_seconds: int = 10
    rasa_timeout_seconds: int = 15
    bot_retry_window_seconds: int = 3600
    # --- replicas and the Rasa process (docs/operations.md) ---
    rasa_urls: tuple[str, ...] = ()
    replicas: int = 1
    rasa_tf_threads: int = 1
    rasa_malloc_arena_max: int = 2
    # --- training from the admin pages (training/); documented in .env.example ---
    training_epoch_fraction: float = 0.2
    training_config: str = ""  # a config.yml to train with instead of the project's (tests)
    # --- the advisor's inbox (bot/console); documented in .env.example ---
    console_max_chats_default: int = 3
    auto_assign: bool = False
    queue_wait_alert_seconds: int = 180
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout_seconds: int = 15
    # --- Slack (bot/channels/slack); the channel is off while the token is unset ---
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_api_url: str = "https://slack.com/api/"
    # --- Microsoft Teams (bot/channels/teams); off while the app id is unset ---
    teams_app_id: str = ""
    teams_app_password: str = ""
    teams_tenant_id: str = ""
    teams_openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    teams_token_url: str = ""
    teams_allowed_service_urls: tuple[str, ...] = ("https://smba.trafficmanager.net/",)
    # --- hardening (docs/hardening.md); documented in .env.example ---
    rate_limit_address_messages: int = 30
    rate_limit_global_messages: int = 300
    rate_limit_handoffs: int = 3
    rate_limit_handoff_window_seconds: int = 600
    rate_limit_connections: int = 30
    max_sockets_per_address: int = 50
    trusted_proxies: tuple[str, ...] = ()
    trusted_proxy_header: str = "X-Forwarded-For"
    queue_abandon_seconds: int = 300
    # --- privacy (retention); documented in .env.example and docs/privacy.md ---
    retention_transcript_days: int = 90
    retention_ticket_days: int = 90
    retention_tracker_days: int = 90
    retention_audit_content_days: int = 365
    privacy_page_url: str = "/integritet"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_app_id)

    @property
    def teams_token_endpoint(self) -> str:
        """Where the bot gets its OAuth token: the tenant's own (single-tenant bots, the norm
        now) or Bot Framework's multi-tenant one."""
        if self.teams_token_url:
            return self.teams_token_url
        tenant = self.teams_tenant_id or "botframework.com"
        return f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"

    @property
    def transcript_email_enabled(self) -> bool:
        """Transcripts can be e-mailed to companies once a mail server is configured."""
        return bool(self.smtp_host and self.smtp_from)

    @property
    def rasa_channel_headers(self) -> dict[str, str]:
        return {RASA_CHANNEL_HEADER: self.rasa_token}

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def actions_health_url(self) -> str:
        return f"http://{self.action_server_host}:{self.action_server_port}/health"

    @property
    def action_server_url(self) -> str:
        return f"http://{self.action_server_host}:{self.action_server_port}/webhook"


def _fraction(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number between 0 and 1, not {raw!r}") from None
    if not 0 < value <= 1:
        raise SettingsError(f"{name} must be between 0 (exclusive) and 1, not {raw!r}")
    return value


def _one_of(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first when unset)."""
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build the settings from `env` (default: the process environment plus `.env`)."""
    if env is None:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
        env = dict(os.environ)
    var_dir = Path(env.get("VAR_DIR") or PROJECT_ROOT / "var")
    if not var_dir.is_absolute():
        var_dir = PROJECT_ROOT / var_dir
    model_dir = Path(env.get("MODEL_DIR") or PROJECT_ROOT / "models")
    if not model_dir.is_absolute():
        model_dir = PROJECT_ROOT / model_dir
    return Settings(
        database_url=env.get("DATABASE_URL") or _sqlite_url(var_dir / "foretagsstod.db"),
        rasa_tracker_url=env.get("RASA_TRACKER_URL") or _sqlite_url(var_dir / "rasa-tracker.db"),
        redis_url=env.get("REDIS_URL") or None,
        rasa_host=env.get("RASA_HOST") or "127.0.0.1",
        rasa_port=_int(env, "RASA_PORT", 5005),
        rasa_token=env.get("RASA_TOKEN") or _stored_token(var_dir),
        action_server_host=env.get("ACTION_SERVER_HOST") or "127.0.0.1",
        action_server_port=_int(env, "ACTION_SERVER_PORT", 5055),
        gateway_host=env.get("GATEWAY_HOST") or "127.0.0.1",
        gateway_port=_int(env, "GATEWAY_PORT", 8080),
        model_dir=model_dir,
        var_dir=var_dir,
        log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
        gateway_event_loop=_one_of(env, "GATEWAY_EVENT_LOOP", ("uvloop", "asyncio")),
        gateway_allowed_origins=_list(env, "GATEWAY_ALLOWED_ORIGINS"),
        gateway_secure_cookies=_bool(env, "GATEWAY_SECURE_COOKIES", False),
        session_secret=env.get("SESSION_SECRET") or _stored_secret(var_dir, "session_secret"),
        session_max_age_hours=_int(env, "SESSION_MAX_AGE_HOURS", 12),
        opening_hours=env.get("OPENING_HOURS") or "mon-fri 08:00-16:30",
        opening_timezone=env.get("OPENING_TIMEZONE") or "Europe/Stockholm",
        opening_closed_dates=_list(env, "OPENING_CLOSED_DATES"),
        advisor_timeout_seconds=_int(env, "ADVISOR_TIMEOUT_SECONDS", 120),
        queue_minutes_per_chat=_int(env, "QUEUE_MINUTES_PER_CHAT", 6),
        max_message_chars=_int(env, "MAX_MESSAGE_CHARS", 2000),
        rate_limit_messages=_int(env, "RATE_LIMIT_MESSAGES", 8),
        rate_limit_window_seconds=_int(env, "RATE_LIMIT_WINDOW_SECONDS", 10),
        rasa_timeout_seconds=_int(env, "RASA_TIMEOUT_SECONDS", 15),
        bot_retry_window_seconds=_positive(env, "BOT_RETRY_WINDOW_SECONDS", 3600),
        rasa_urls=tuple(url.rstrip("/") for url in _list(env, "RASA_URLS")),
        replicas=_positive(env, "REPLICAS", 1),
        rasa_tf_threads=_int(env, "RASA_TF_THREADS", 1),
        rasa_malloc_arena_max=_int(env, "RASA_MALLOC_ARENA_MAX", 2),
        training_epoch_fraction=_fraction(env, "TRAINING_EPOCH_FRACTION", 0.2),
        training_config=env.get("TRAINING_CONFIG", ""),
        console_max_chats_default=_positive(env, "CONSOLE_MAX_CHATS_DEFAULT", 3),
        auto_assign=_bool(env, "AUTO_ASSIGN", False),
        queue_wait_alert_seconds=_positive(env, "QUEUE_WAIT_ALERT_SECONDS", 180),
        smtp_host=env.get("SMTP_HOST", "").strip(),
        smtp_port=_int(env, "SMTP_PORT", 587),
        smtp_user=env.get("SMTP_USER", "").strip(),
        smtp_password=env.get("SMTP_PASSWORD", ""),
        smtp_from=env.get("SMTP_FROM", "").strip(),
        smtp_starttls=_bool(env, "SMTP_STARTTLS", True),
        smtp_ssl=_bool(env, "SMTP_SSL", False),
        smtp_timeout_seconds=_positive(env, "SMTP_TIMEOUT_SECONDS", 15),
        slack_bot_token=env.get("SLACK_BOT_TOKEN", "").strip(),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
        slack_api_url=_with_slash(env.get("SLACK_API_URL") or "https://slack.com/api/"),
        teams_app_id=env.get("TEAMS_APP_ID", "").strip(),
        teams_app_password=env.get("TEAMS_APP_PASSWORD", "").strip(),
        teams_tenant_id=env.get("TEAMS_TENANT_ID", "").strip(),
        teams_openid_metadata_url=env.get("TEAMS_OPENID_METADATA_URL")
        or "https://login.botframework.com/v1/.well-known/openidconfiguration",
        teams_token_url=env.get("TEAMS_TOKEN_URL", "").strip(),
        teams_allowed_service_urls=_list(env, "TEAMS_ALLOWED_SERVICE_URLS") or ("https://smba.trafficmanager.net/",),
        rate_limit_address_messages=_positive(env, "RATE_LIMIT_ADDRESS_MESSAGES", 30),
        rate_limit_global_messages=_positive(env, "RATE_LIMIT_GLOBAL_MESSAGES", 300),
        rate_limit_handoffs=_positive(env, "RATE_LIMIT_HANDOFFS", 3),
        rate_limit_handoff_window_seconds=_positive(env, "RATE_LIMIT_HANDOFF_WINDOW_SECONDS", 600),
        rate_limit_connections=_positive(env, "RATE_LIMIT_CONNECTIONS", 30),
        max_sockets_per_address=_positive(env, "MAX_SOCKETS_PER_ADDRESS", 50),
        trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
        trusted_proxy_header=(env.get("TRUSTED_PROXY_HEADER") or "X-Forwarded-For").strip(),
        queue_abandon_seconds=_positive(env, "QUEUE_ABANDON_SECONDS", 300),
        retention_transcript_days=_positive(env, "RETENTION_TRANSCRIPT_DAYS", 90),
        retention_ticket_days=_positive(env, "RETENTION_TICKET_DAYS", 90),
        retention_tracker_days=_positive(env, "RETENTION_TRACKER_DAYS", 90),
        retention_audit_content_days=_positive(env, "RETENTION_AUDIT_CONTENT_DAYS", 365),
        privacy_page_url=env.get("PRIVACY_PAGE_URL", "").strip() or "/integritet",
    )


def _stored_token(var_dir: Path) -> str:
    """A random Rasa API token kept in var/ when none is configured (never in the repo)."""
    return _stored_secret(var_dir, "rasa_token")


def _with_slash(url: str) -> str:
    return url.strip().rstrip("/") + "/"


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated setting as a tuple of non-empty, stripped items."""
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    """Addresses or networks (CIDR), checked here so that a typo stops the start."""
    items = _list(env, name)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise SettingsError(f"{name}: {item!r} is not an address or network") from exc
    return items


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _stored_secret(var_dir: Path, name: str) -> str:
    """A random secret kept in var/<name> (mode 0600), created on first use."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    path.write_text(token)
    path.chmod(0o600)
    return token
