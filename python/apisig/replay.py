"""Replay protection shared by several worker processes and machines, in Redis.

An in-process verifier remembers the requests it accepted in its own memory, so a request
replayed to *another* worker (gunicorn and uvicorn run several; a load balancer spreads them
over machines) would be accepted again. Give every worker's verifier the same Redis::

    import redis
    from apisig import Verifier
    from apisig.replay import RedisReplayStore

    store = RedisReplayStore(redis.Redis(host="redis", socket_timeout=0.5), namespace="shop-api")
    verifier = Verifier(replay_store=store, window=30)

The verifier checks the request under its lock, then hands the store a :class:`ReplayClaim`
outside it; the request is accepted only if the claim is made good, by one atomic Lua script
(the core's ``CLAIM_SCRIPT``, the same for Rust workers):

* a signature (schemes with a timestamp): ``SET <namespace>:r:<key> 1 NX PXAT <expires>``, so
  of two workers racing the same request exactly one succeeds; the record expires with the
  window (the request's timestamp plus the tolerance, by Redis's clock), and a claim arriving
  after that is refused as late;
* a nonce (APEX's growing counter): the client's high-water mark is raised only if the nonce
  is above it; the mark is kept for good (one key per client).

The same script notices a Redis that lost its memory — restarted without persistence or
restarted at all, flushed, failed over to a replica, or evicting keys — through a marker
(``<namespace>:epoch``: since when, Redis's run id, its eviction count) and then refuses with
:class:`ReplayStoreUnavailable` for ``recovery`` seconds (600 by default; at least twice the
window's tolerance), and refuses for good every nonce at or below that moment plus
``recovery`` in milliseconds (APEX clients send their clock in ms). See docs/redis.md.

Keys are SHA-256 digests over the client's key id and the signature, computed by the core: no
signature is stored in clear, and every worker derives the same key whatever order it
registered its clients in. The nonce high-water mark is stored as a number (a counter, not a
secret).

When Redis cannot be reached the request is refused with :class:`ReplayStoreUnavailable`
(the middleware answers 503): **fail closed**. ``fail_open=True`` accepts it instead (and logs
a warning on the ``apisig.replay`` logger) — a deliberate choice of availability over replay
protection while Redis is down. Set ``socket_timeout`` on the client: without it a Redis that
hangs holds the request as long.

For asyncio servers use :class:`AsyncRedisReplayStore` with ``redis.asyncio.Redis``; the ASGI
middleware awaits it, and :func:`verify_async` does the same for direct verification.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._native import (
    CLAIM_MARKER_SUFFIX,
    CLAIM_RECOVERY_MS,
    CLAIM_SCRIPT,
    Principal,
    ReplayClaim,
    Scheme,
    Verifier,
)
from .exceptions import ReplayedRequest, ReplayStoreUnavailable, TimestampOutsideWindow

if TYPE_CHECKING:
    import redis
    import redis.asyncio

__all__ = [
    "AsyncRedisReplayStore",
    "AsyncReplayStore",
    "RedisReplayStore",
    "ReplayClaim",
    "ReplayStore",
    "claim_async",
    "verify_async",
]

log = logging.getLogger("apisig.replay")


@runtime_checkable
class ReplayStore(Protocol):
    """A shared replay record for :class:`apisig.Verifier` (``replay_store=``).

    ``claim`` makes the claim good or raises :class:`apisig.ReplayedRequest` (already
    recorded) or :class:`apisig.ReplayStoreUnavailable` (cannot tell)."""

    def claim(self, claim: ReplayClaim) -> None: ...


@runtime_checkable
class AsyncReplayStore(Protocol):
    """The asyncio form of :class:`ReplayStore`."""

    async def claim(self, claim: ReplayClaim) -> None: ...


class _RedisKeys:
    def __init__(self, namespace: str, fail_open: bool, recovery: float) -> None:
        if not namespace or any(c.isspace() for c in namespace):
            raise ValueError("namespace is a non-empty Redis key prefix without whitespace")
        if not recovery >= 0:
            raise ValueError("recovery is a number of seconds, not negative")
        self.namespace = namespace
        self.fail_open = fail_open
        self.recovery = recovery
        self.marker = namespace + CLAIM_MARKER_SUFFIX

    def keys_args(self, claim: ReplayClaim) -> tuple[list[str], list[str]]:
        """``KEYS`` and ``ARGV`` of the claim script."""
        keys = [claim.store_key(self.namespace), self.marker]
        return keys, claim.script_args(round(self.recovery * 1000))

    def outcome(self, claim: ReplayClaim, reply: object) -> None:
        """The script's reply (the core's ``script_outcome``): 1 made good, 0 a replay, 2 the
        claim arrived after the request's window closed, -1 refused while the store recovers
        from a loss of memory."""
        if reply == 1:
            return
        if reply == 0:
            raise _refused(claim)
        if reply == 2:
            raise TimestampOutsideWindow("the request's window closed before the replay store was asked")
        raise ReplayStoreUnavailable(
            "the replay store (Redis) lost its memory (restarted, flushed, failed over or evicting) "
            f"less than {self.recovery:g} s ago: requests it may have forgotten are refused until then"
        )

    def unavailable(self, error: Exception) -> None:
        """Fails closed (raises), or with ``fail_open`` logs and lets the request through."""
        if self.fail_open:
            log.warning("replay store unavailable, request accepted (fail_open=True): %s", error)
            return
        raise ReplayStoreUnavailable(f"the replay store (Redis) could not be reached: {error}") from error


def _refused(claim: ReplayClaim) -> ReplayedRequest:
    if claim.nonce is None:
        return ReplayedRequest("the request was already accepted (shared replay record)")
    return ReplayedRequest(
        "the nonce is not above the last one accepted, or the floor set when the store lost "
        "its memory (shared replay record)"
    )


class RedisReplayStore(_RedisKeys):
    """The shared replay record in Redis, for threaded and WSGI servers (``redis.Redis``).

    ``recovery``: seconds to refuse after Redis lost its memory — at least twice the window's
    tolerance, and at least how far APEX clients' clocks may run ahead of Redis's; the same in
    every worker sharing the Redis. ``fail_open`` lets requests through while Redis cannot be
    reached (never while it recovers)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        namespace: str = "apisig",
        fail_open: bool = False,
        recovery: float = CLAIM_RECOVERY_MS / 1000,
    ) -> None:
        super().__init__(namespace, fail_open, recovery)
        self.client = client
        self._script = client.register_script(CLAIM_SCRIPT)

    def claim(self, claim: ReplayClaim) -> None:
        import redis

        keys, args = self.keys_args(claim)
        try:
            reply = self._script(keys=keys, args=args)
        except redis.RedisError as e:
            self.unavailable(e)
            return
        self.outcome(claim, reply)


class AsyncRedisReplayStore(_RedisKeys):
    """The shared replay record in Redis, for asyncio servers (``redis.asyncio.Redis``); the
    options as :class:`RedisReplayStore`'s."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        namespace: str = "apisig",
        fail_open: bool = False,
        recovery: float = CLAIM_RECOVERY_MS / 1000,
    ) -> None:
        super().__init__(namespace, fail_open, recovery)
        self.client = client
        self._script = client.register_script(CLAIM_SCRIPT)

    async def claim(self, claim: ReplayClaim) -> None:
        import redis

        keys, args = self.keys_args(claim)
        try:
            reply = await self._script(keys=keys, args=args)
        except redis.RedisError as e:
            self.unavailable(e)
            return
        self.outcome(claim, reply)


async def claim_async(store: Any, claim: ReplayClaim) -> None:
    """Makes ``claim`` good in ``store``, awaiting it if the store is asynchronous."""
    pending: Awaitable[None] | None = store.claim(claim)
    if pending is not None:
        await pending


async def verify_async(
    verifier: Verifier,
    scheme: Scheme,
    method: str,
    path: str,
    headers: Any,
    body: bytes = b"",
    *,
    now: int | None = None,
    authorize: bool = False,
) -> Principal:
    """:meth:`apisig.Verifier.verify` for a verifier whose replay store is asynchronous."""
    principal, claim = verifier.verify_deferred(
        scheme, method, path, headers, body, now=now, authorize=authorize
    )
    if claim is not None and verifier.replay_store is not None:
        await claim_async(verifier.replay_store, claim)
    return principal
