"""Thread state and fleet-wide switches in Redis, shared by every worker on every host.

    store = RedisThreadStore("redis://127.0.0.1:6379/0")     # or PROMPT_ROUTER_STATE_URL

One Redis hash per thread (`{prefix}thread:{id}`: `arm`, `bundle`, `m:<module>`,
`d:<module>` whose value is `@<message position>` or empty), updated by one Lua script, so `record` is atomic and the idle expiry
(`PEXPIRE`) is restarted in the same step. The switches live in one more hash
(`{prefix}switches`); `record` reads them in the same pipeline, so a worker that serves
traffic sees a change on its next request at no extra round trip, and an idle one re-reads
them when its copy is `switch_refresh_seconds` old.

Connections are made lazily, in the process and event loop that use them: a store created
before a pre-fork server forks (gunicorn `--preload`) opens its own connections in each
worker. Timeouts are short and redis-py's own retries are off: a dead Redis costs one
`timeout_seconds` and the caller (`ConversationRouter`) degrades to per-request routing.
Failures raise `StateStoreError`, whose message names the failure, never the URL.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import SettingsError, StateStoreError
from ._fork import reset_after_fork
from .rollout import ARMS, Arm
from .state import Switches, ThreadState, check_record, thread_key

if TYPE_CHECKING:
    import asyncio

    import redis
    import redis.asyncio

    from ..settings import RouterSettings

SCHEMES = ("redis", "rediss", "unix")
# ARGV: ttl in ms, the per-thread bound, the proposed arm, the bundle ('' = none), how many
# of the ids that follow are modules (the rest are delivered entries, "module" or
# "module@position": field d:module, value "@position"; the first delivery of a module wins).
RECORD_SCRIPT = """
local key = KEYS[1]
redis.call('HSETNX', key, 'arm', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSETNX', key, 'bundle', ARGV[4])
end
if #ARGV > 5 and redis.call('HGET', key, 'arm') == 'dynamic' then
  local room = tonumber(ARGV[2]) - (redis.call('HLEN', key) - 1 - redis.call('HEXISTS', key, 'bundle'))
  local modules = 5 + tonumber(ARGV[5])
  for i = 6, #ARGV do
    if room <= 0 then break end
    if i <= modules then
      room = room - redis.call('HSETNX', key, 'm:' .. ARGV[i], '1')
    else
      local at = string.find(ARGV[i], '@', 1, true)
      if at then
        room = room - redis.call('HSETNX', key, 'd:' .. string.sub(ARGV[i], 1, at - 1), string.sub(ARGV[i], at))
      else
        room = room - redis.call('HSETNX', key, 'd:' .. ARGV[i], '')
      end
    end
  end
end
redis.call('PEXPIRE', key, ARGV[1])
return redis.call('HGETALL', key)
"""
RECORD_SHA = hashlib.sha1(RECORD_SCRIPT.encode()).hexdigest()


def check_url(url: str) -> str:
    """A Redis URL's scheme is checked up front; the URL itself (it may hold a password)
    never appears in a message."""
    if not isinstance(url, str) or not url.startswith(tuple(f"{scheme}://" for scheme in SCHEMES)):
        raise SettingsError("the state store URL must start with redis://, rediss:// or unix://")
    return url


def _redis() -> Any:
    try:
        import redis
    except ImportError:
        raise SettingsError("a redis:// state store needs redis-py: pip install 'prompt-router[redis]'") from None
    return redis


def _failure(exc: BaseException) -> StateStoreError:
    return StateStoreError(f"the thread-state store failed: {type(exc).__name__}")


def _parse_state(reply: Sequence[Any]) -> ThreadState | None:
    if not reply:
        return None
    fields = dict(zip(reply[::2], reply[1::2]))
    arm = fields.get("arm")
    if arm not in ARMS:
        raise StateStoreError("the thread-state store holds a thread without a valid arm")
    modules = frozenset(name[2:] for name in fields if name[:2] == "m:")
    delivered = frozenset(name[2:] + (value if value[:1] == "@" else "") for name, value in fields.items()
                          if name[:2] == "d:")
    return ThreadState(arm, modules, delivered, fields.get("bundle"))


def _parse_switches(fields: Mapping[Any, Any]) -> Switches:
    # A value written by hand that does not parse is ignored, like an unset switch.
    dynamic = {"1": True, "0": False}.get(fields.get("dynamic", ""))
    try:
        percent: float | None = float(fields["rollout_percent"])
    except (KeyError, ValueError):
        percent = None
    if percent is not None and not 0.0 <= percent <= 100.0:
        percent = None
    return Switches(dynamic, percent)


def _switch_fields(switches: Switches) -> dict[Any, Any]:
    fields: dict[Any, Any] = {}
    if switches.dynamic is not None:
        fields["dynamic"] = "1" if switches.dynamic else "0"
    if switches.rollout_percent is not None:
        fields["rollout_percent"] = repr(float(switches.rollout_percent))
    return fields


class RedisThreadStore:
    """A `ThreadStore`, `AsyncThreadStore`, `SwitchStore` and `AsyncSwitchStore` on Redis."""

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "prompt-router:",
        ttl_seconds: float = 86_400.0,
        max_modules: int = 256,
        timeout_seconds: float = 0.1,
        switch_refresh_seconds: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = _redis()
        self._url = check_url(url)
        if max_modules < 1 or not ttl_seconds > 0 or not timeout_seconds > 0 or switch_refresh_seconds < 0:
            raise SettingsError("max_modules must be at least 1; ttl and timeout above 0; the refresh interval at least 0")
        self.key_prefix = key_prefix
        self.ttl_ms = max(1, round(ttl_seconds * 1000))
        self.max_modules = max_modules
        self.timeout_seconds = timeout_seconds
        self.switch_refresh_seconds = switch_refresh_seconds
        self._switch_key = f"{key_prefix}switches"
        self._clock = clock
        self._switches = Switches()
        self._switches_at = float("-inf")  # never read yet
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None
        self._client_pid = 0
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[int, redis.asyncio.Redis]] = (
            weakref.WeakKeyDictionary())
        reset_after_fork(self)

    def _after_fork(self) -> None:
        """In a forked child: the parent's clients are left alone (never closed: their sockets
        are the parent's too) and new ones are made on first use."""
        self._lock = threading.Lock()
        self._client = None
        self._async = weakref.WeakKeyDictionary()

    @classmethod
    def from_settings(cls, settings: RouterSettings) -> RedisThreadStore:
        if settings.state_url is None:
            raise SettingsError("PROMPT_ROUTER_STATE_URL is not set")
        return cls(settings.state_url.get_secret_value(), key_prefix=settings.state_key_prefix,
                   ttl_seconds=settings.thread_state_ttl_seconds, max_modules=settings.thread_state_max_modules,
                   timeout_seconds=settings.state_timeout_seconds, switch_refresh_seconds=settings.switch_refresh_seconds)

    def __repr__(self) -> str:
        return f"RedisThreadStore(key_prefix={self.key_prefix!r})"  # never the URL: it may hold a password

    # --- connections: made lazily, per process and per event loop ------------------------------

    def _options(self) -> dict[str, Any]:
        return {"socket_timeout": self.timeout_seconds, "socket_connect_timeout": self.timeout_seconds,
                "decode_responses": True, "health_check_interval": 0}

    def client(self) -> redis.Redis:
        """This process's client (a forked child makes its own and leaves the parent's alone)."""
        pid = os.getpid()
        client = self._client
        if client is None or self._client_pid != pid:
            with self._lock:
                if self._client is None or self._client_pid != pid:
                    from redis.backoff import NoBackoff
                    from redis.retry import Retry

                    self._client = self._redis.Redis.from_url(self._url, retry=Retry(NoBackoff(), 0), **self._options())
                    self._client_pid = pid
                client = self._client
        assert client is not None
        return client

    def async_client(self) -> redis.asyncio.Redis:
        """The client of the running event loop in this process."""
        import asyncio

        loop = asyncio.get_running_loop()
        pid = os.getpid()
        entry = self._async.get(loop)
        if entry is None or entry[0] != pid:
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            client = self._redis.asyncio.Redis.from_url(self._url, retry=Retry(NoBackoff(), 0), **self._options())
            entry = (pid, client)
            self._async[loop] = entry
        return entry[1]

    def close(self) -> None:
        """Close this process's sync connections (async ones: `aclose`)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None and self._client_pid == os.getpid():
            client.close()

    async def aclose(self) -> None:
        import asyncio

        entry = self._async.pop(asyncio.get_running_loop(), None)
        if entry is not None and entry[0] == os.getpid():
            await entry[1].aclose()

    # --- the thread protocol -------------------------------------------------------------------

    def _key(self, thread_id: str) -> str:
        return f"{self.key_prefix}thread:{thread_key(thread_id)}"

    def _record_args(self, arm: Arm, modules: Collection[str], delivered: Collection[str], bundle: str | None) -> list[str]:
        check_record(arm, modules, delivered, bundle)
        ids = sorted(set(modules))
        return [str(self.ttl_ms), str(self.max_modules), arm, bundle or "", str(len(ids)), *ids, *sorted(set(delivered))]

    def _recorded(self, reply: Any, switches: Any) -> ThreadState:
        for value in (reply, switches):
            if isinstance(value, Exception):
                raise _failure(value) from value
        self._set_switches(_parse_switches(switches))
        state = _parse_state(reply)
        if state is None:
            raise StateStoreError("the thread-state store returned no state")
        return state

    def get(self, thread_id: str) -> ThreadState | None:
        key = self._key(thread_id)
        try:
            return _parse_state(self._flat(self.client().hgetall(key)))
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc

    def record(self, thread_id: str, *, arm: Arm, modules: Collection[str] = (), delivered: Collection[str] = (),
               bundle: str | None = None) -> ThreadState:
        key, args = self._key(thread_id), self._record_args(arm, modules, delivered, bundle)
        client = self.client()
        try:
            pipe = client.pipeline(transaction=False)
            pipe.evalsha(RECORD_SHA, 1, key, *args)
            pipe.hgetall(self._switch_key)
            reply, switches = pipe.execute(raise_on_error=False)
            if isinstance(reply, self._redis.exceptions.NoScriptError):  # first use, or Redis restarted
                client.script_load(RECORD_SCRIPT)
                reply = client.evalsha(RECORD_SHA, 1, key, *args)
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc
        return self._recorded(reply, switches)

    def reset(self, thread_id: str) -> None:
        try:
            self.client().delete(self._key(thread_id))
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc

    async def aget(self, thread_id: str) -> ThreadState | None:
        key = self._key(thread_id)
        try:
            return _parse_state(self._flat(await self.async_client().hgetall(key)))
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc

    async def arecord(self, thread_id: str, *, arm: Arm, modules: Collection[str] = (),
                      delivered: Collection[str] = (), bundle: str | None = None) -> ThreadState:
        key, args = self._key(thread_id), self._record_args(arm, modules, delivered, bundle)
        client = self.async_client()
        try:
            pipe = client.pipeline(transaction=False)
            pipe.evalsha(RECORD_SHA, 1, key, *args)
            pipe.hgetall(self._switch_key)
            reply, switches = await pipe.execute(raise_on_error=False)
            if isinstance(reply, self._redis.exceptions.NoScriptError):
                await client.script_load(RECORD_SCRIPT)
                reply = await client.evalsha(RECORD_SHA, 1, key, *args)
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc
        return self._recorded(reply, switches)

    async def areset(self, thread_id: str) -> None:
        try:
            await self.async_client().delete(self._key(thread_id))
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc

    @staticmethod
    def _flat(fields: Mapping[Any, Any]) -> list[Any]:
        return [item for pair in fields.items() for item in pair]

    # --- the switches --------------------------------------------------------------------------

    def _set_switches(self, switches: Switches) -> None:
        self._switches, self._switches_at = switches, self._clock()

    def _fresh_switches(self) -> Switches | None:
        if self._clock() - self._switches_at <= self.switch_refresh_seconds:
            return self._switches
        return None

    def read_switches(self) -> Switches:
        cached = self._fresh_switches()
        if cached is not None:
            return cached
        try:
            switches = _parse_switches(self.client().hgetall(self._switch_key))
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc
        self._set_switches(switches)
        return switches

    async def aread_switches(self) -> Switches:
        cached = self._fresh_switches()
        if cached is not None:
            return cached
        try:
            switches = _parse_switches(await self.async_client().hgetall(self._switch_key))
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc
        self._set_switches(switches)
        return switches

    @property
    def last_switches(self) -> Switches:
        """The switches as last read or written, however old (what applies while Redis is
        unreachable); `record` renews them at no extra round trip."""
        return self._switches

    def write_switches(self, switches: Switches) -> None:
        fields = _switch_fields(switches)
        try:
            pipe = self.client().pipeline(transaction=True)
            pipe.delete(self._switch_key)
            if fields:
                pipe.hset(self._switch_key, mapping=fields)
            pipe.execute()
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc
        self._set_switches(switches)

    async def awrite_switches(self, switches: Switches) -> None:
        fields = _switch_fields(switches)
        try:
            pipe = self.async_client().pipeline(transaction=True)
            pipe.delete(self._switch_key)
            if fields:
                pipe.hset(self._switch_key, mapping=fields)
            await pipe.execute()
        except self._redis.RedisError as exc:
            raise _failure(exc) from exc
        self._set_switches(switches)
