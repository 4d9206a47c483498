"""Settings, from `PROMPT_ROUTER_*` environment variables or a `.env` file.

`PromptRouter.reload_settings()` applies every field to a running router: the library, router,
builder and caches are rebuilt from the new settings and swapped in at once, and telemetry is
reconfigured (see pipeline.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import SettingsError
from .library import LibraryLimits, bundled_library_dir
from .tokens import DEFAULT_ENCODING

MIB = 1024 * 1024


class RouterSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PROMPT_ROUTER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",  # a shared .env holds other applications' variables too
        env_ignore_empty=True,  # `NAME=` in .env means "use the default"
        frozen=True,
        hide_input_in_errors=True,  # a validation error must never print the DSN
    )

    use_dynamic_routing: bool = Field(True, description="false = send the full prompt, byte for byte")
    modules_dir: Path | None = Field(None, description="module library directory; default: the bundled one")
    fallback: Literal["all", "core"] | None = Field(
        None, description="when no trigger matches: 'all' = full prompt, 'core' = core + response; default: the library's"
    )
    encoding: str = Field(DEFAULT_ENCODING, description="tiktoken encoding used to count tokens")
    router: Literal["auto", "keyword", "learned", "hybrid"] = Field(
        "auto", description="auto = hybrid when a trained artefact matches the library, else keyword")
    learned_model: Path | None = Field(None, description="learned-router artefact; default: learned_router.json in the library")
    learned_threshold_shift: float = Field(
        0.0, ge=-5.0, le=5.0,
        description="the recall-vs-savings knob: positive = more recall (each unit makes the miss budget e times smaller)")
    history_turns: int = Field(3, ge=0, description="earlier user turns that are also routed")
    max_scan_chars: int = Field(32_000, ge=0, description="scan at most this many characters of a message (head + tail); 0 = all")
    route_cache_size: int = Field(4096, ge=0, description="routing decisions kept (LRU)")
    build_cache_size: int = Field(256, ge=0, description="assembled prompts kept (LRU)")
    strict_context: bool = Field(
        True, description="a context variable the library does not declare is an error (a typo); false = ignored")

    # Chat-backend integration (prompt_router.integration).
    rollout_percent: float = Field(100.0, ge=0.0, le=100.0, description="share of threads in the dynamic arm")
    rollout_salt: str = Field("prompt-router", description="changes which threads fall in the dynamic arm")
    sticky_threads: bool = Field(True, description="a module used earlier in a thread stays for the rest of it")
    thread_state_size: int = Field(10_000, ge=1, description="threads remembered (LRU)")
    thread_state_ttl_seconds: float = Field(86_400.0, gt=0, description="a thread idle this long is forgotten")
    filter_tools: bool = Field(False, description="send only the tool definitions of selected modules (see docs)")

    # Shared thread state, fleet-wide switches and live reload (docs/deployment.md).
    state_url: SecretStr | None = Field(
        None, description="redis://host:6379/0 shares thread state and switches between workers; unset = in this process")
    state_key_prefix: str = Field("prompt-router:", description="prefix of every key in the shared store")
    state_timeout_seconds: float = Field(0.1, gt=0, le=10, description="connect and reply timeout of the shared store")
    state_retry_seconds: float = Field(
        1.0, gt=0, le=300, description="after a store failure, route per request this long before trying again (doubles, up to 30 s)")
    switch_refresh_seconds: float = Field(
        0.5, ge=0, le=60, description="how old a worker's copy of the fleet-wide switches may be")
    thread_state_max_modules: int = Field(256, ge=1, le=100_000, description="module ids one thread keeps at most")
    library_watch_seconds: float = Field(
        0.0, ge=0, le=3600, description="poll the library's files this often and reload it when they change; 0 = off")

    # Telemetry (docs/monitoring.md). No DSN: nothing is attached and nothing runs.
    sentry_dsn: SecretStr | None = Field(None, description="DSN of the GlitchTip/Sentry project; a secret, never logged")
    sentry_environment: str | None = Field(None, description="environment reported with events")
    sentry_release: str | None = Field(None, description="release reported with events (default prompt-router@VERSION)")
    telemetry_enabled: bool = Field(True, description="false = report nothing even with a DSN")
    # Per-request events describe the *shape* of routing (module counts, sizes); 1% of a busy
    # service is thousands a day, while every request would flood a tracker's quota. Counts
    # belong in metrics (below); faults are always reported.
    telemetry_sample_rate: float = Field(0.01, ge=0.0, le=1.0, description="share of requests reported as routing/prompt events")
    telemetry_provider_sample_rate: float = Field(
        0.01, ge=0.0, le=1.0, description="share of record_provider_request calls reported as provider-usage events")
    telemetry_traces_sample_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of requests reported as timing transactions")
    telemetry_use_host_client: bool = Field(False, description="send through the host application's initialised sentry_sdk client")
    telemetry_queue_size: int = Field(1000, ge=1, description="events waiting to be sent; more are dropped")
    telemetry_max_events_per_second: float = Field(
        100.0, gt=0, description="requests reported per second at most; bounds background CPU, excess is dropped and counted")
    telemetry_shutdown_timeout: float = Field(
        2.0, ge=0.0, le=60.0, allow_inf_nan=False, description="seconds to flush at shutdown (at most 60)")

    # Bounds on what one request, one cache and one library may cost (docs/security.md).
    route_cache_max_bytes: int = Field(32 * MIB, ge=0, description="bytes the routing-decision cache may hold")
    build_cache_max_bytes: int = Field(64 * MIB, ge=0, description="bytes the assembled-prompt caches may hold")
    library_max_module_bytes: int = Field(MIB, ge=1, description="largest module file (or library.yaml) that loads")
    library_max_bytes: int = Field(16 * MIB, ge=1, description="largest library, all its files together")
    template_max_output_chars: int = Field(
        MIB, ge=1, description="longest text one module template may render or build in one expression")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except UnicodeDecodeError as exc:
            # pydantic-settings reads the .env file itself and lets the decoding error out.
            env_file = values.get("_env_file", self.model_config.get("env_file"))
            raise SettingsError(f"{env_file} is not valid UTF-8 (byte {exc.start}); save it as UTF-8") from None

    # Metrics (OpenTelemetry, the `otel` extra). Off: nothing is imported and nothing runs.
    metrics_enabled: bool = Field(
        False, description="record OpenTelemetry metrics through the global MeterProvider (the host sets up the exporter)")

    # Delivery policies (README "Delivery policies: where routing saves money"): how a thread's
    # routed modules reach the model. A thread keeps the policy it started with.
    delivery_policy: Literal["auto", "static", "per_request", "sticky", "bundles", "catalogue"] = Field(
        "auto", description="auto = the delivery plan's cheapest policy for the model and the observed traffic, "
                            "else the full prompt (static); sticky = route once per thread, only add")
    model: str | None = Field(
        None, description="the model requests go to: its caching rules pick auto's policy (prepare(model=...) overrides)")
    delivery_plan: Path | None = Field(
        None, description="the delivery plan auto and bundles read; default: delivery_plan.json in the library")
    delivery_pricing: str | None = Field(
        None, description="look the plan up for this pricing family (e.g. anthropic-1h with a 1-hour cache) "
                          "instead of the model's")
    traffic_window_seconds: float = Field(
        3600.0, ge=60.0, le=7 * 86_400.0, description="auto measures threads/hour, turns and tool steps over this window")
    traffic_workers: int = Field(
        1, ge=1, le=100_000, description="workers sharing the traffic evenly: auto multiplies the threads/hour it sees by this")

    def library_dir(self) -> Path:
        """The configured module library, or the bundled one."""
        return self.modules_dir or bundled_library_dir()

    def library_limits(self) -> LibraryLimits:
        """The size limits the library loader enforces."""
        return LibraryLimits(self.library_max_module_bytes, self.library_max_bytes, self.template_max_output_chars)

    @field_validator("state_url")
    @classmethod
    def _check_state_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            # The message never quotes the value: it may hold a password.
            raise ValueError("PROMPT_ROUTER_STATE_URL must start with redis://, rediss:// or unix://")
        return value

    @field_validator("sentry_dsn")
    @classmethod
    def _check_dsn(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        from sentry_sdk.utils import BadDsn, Dsn

        try:
            Dsn(value.get_secret_value())
        except BadDsn as exc:
            # The message names the problem, never the DSN itself.
            raise ValueError(f"PROMPT_ROUTER_SENTRY_DSN is not a valid DSN ({exc})") from None
        return value
