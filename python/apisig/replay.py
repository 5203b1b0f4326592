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
outside it; the request is accepted only if the claim is made good:

* a signature (schemes with a timestamp): ``SET <namespace>:r:<key> 1 NX PX <ttl>``, atomic, so
  of two workers racing the same request exactly one succeeds; the record expires with the
  window (``ttl`` runs to the request's timestamp plus the tolerance);
* a nonce (APEX's growing counter): a Lua script raises the client's high-water mark only if
  the nonce is above it, atomically; the mark is kept for good (one key per client).

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

from ._native import ADVANCE_NONCE_SCRIPT, Principal, ReplayClaim, Scheme, Verifier
from .exceptions import ReplayedRequest, ReplayStoreUnavailable

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
    def __init__(self, namespace: str, fail_open: bool) -> None:
        if not namespace or any(c.isspace() for c in namespace):
            raise ValueError("namespace is a non-empty Redis key prefix without whitespace")
        self.namespace = namespace
        self.fail_open = fail_open

    def key(self, claim: ReplayClaim) -> str:
        return claim.store_key(self.namespace)

    def unavailable(self, error: Exception) -> None:
        """Fails closed (raises), or with ``fail_open`` logs and lets the request through."""
        if self.fail_open:
            log.warning("replay store unavailable, request accepted (fail_open=True): %s", error)
            return
        raise ReplayStoreUnavailable(f"the replay store (Redis) could not be reached: {error}") from error


def _refused(claim: ReplayClaim) -> ReplayedRequest:
    if claim.nonce is None:
        return ReplayedRequest("the request was already accepted (shared replay record)")
    return ReplayedRequest("the nonce is not above the last one accepted (shared replay record)")


class RedisReplayStore(_RedisKeys):
    """The shared replay record in Redis, for threaded and WSGI servers (``redis.Redis``)."""

    def __init__(self, client: redis.Redis, *, namespace: str = "apisig", fail_open: bool = False) -> None:
        super().__init__(namespace, fail_open)
        self.client = client
        self._advance = client.register_script(ADVANCE_NONCE_SCRIPT)

    def claim(self, claim: ReplayClaim) -> None:
        import redis

        try:
            digits = claim.nonce_digits
            if digits is None:
                done = self.client.set(self.key(claim), b"1", nx=True, px=claim.ttl_ms)
            else:
                done = self._advance(keys=[self.key(claim)], args=[digits])
        except redis.RedisError as e:
            self.unavailable(e)
            return
        if not done:
            raise _refused(claim)


class AsyncRedisReplayStore(_RedisKeys):
    """The shared replay record in Redis, for asyncio servers (``redis.asyncio.Redis``)."""

    def __init__(
        self, client: redis.asyncio.Redis, *, namespace: str = "apisig", fail_open: bool = False
    ) -> None:
        super().__init__(namespace, fail_open)
        self.client = client
        self._advance = client.register_script(ADVANCE_NONCE_SCRIPT)

    async def claim(self, claim: ReplayClaim) -> None:
        import redis

        try:
            digits = claim.nonce_digits
            if digits is None:
                done = await self.client.set(self.key(claim), b"1", nx=True, px=claim.ttl_ms)
            else:
                done = await self._advance(keys=[self.key(claim)], args=[digits])
        except redis.RedisError as e:
            self.unavailable(e)
            return
        if not done:
            raise _refused(claim)


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
