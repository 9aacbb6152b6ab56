"""Admission control: `concurrency` requests at work, `queue` waiting, the rest answered 429 at once.

A request that waits longer than its timeout for a slot is answered 503. Both carry `Retry-After`, estimated
from the recent service time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyecg.serve.errors import APIError


class Limiter:
    """At most `concurrency` holders and `queue` waiters, exactly: a freed slot passes straight to the
    oldest waiter, so no newcomer can slip in between a release and the waiter waking up."""

    def __init__(self, concurrency: int, queue: int):
        self.concurrency, self.queue = concurrency, queue
        self.active = 0
        self.mean_s = 1.0  # exponential moving average of the time a request holds a slot
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (a new test client): fresh state
            self._loop, self.active, self._waiters = loop, 0, deque()

    def retry_after(self) -> str:
        return str(max(1, math.ceil(self.mean_s * (self.waiting + 1) / self.concurrency)))

    async def acquire(self, timeout_s: float) -> float:
        """Wait for a slot; returns the seconds waited. 429 when the queue is full, 503 after `timeout_s`."""
        self._check_loop()
        if self.active < self.concurrency and not self._waiters:
            self.active += 1
            return 0.0
        if self.waiting >= self.queue:
            raise APIError(429, f"server busy: {self.active} requests in progress and {self.waiting} waiting "
                           f"(queue of {self.queue}); retry later", "rate_limited",
                           {"Retry-After": self.retry_after()})
        started = time.perf_counter()
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(slot)
        try:
            await asyncio.wait_for(asyncio.shield(slot), timeout_s)
        except (TimeoutError, asyncio.CancelledError) as err:
            if slot.done() and not slot.cancelled():  # the slot was handed over as the wait ended: pass it on
                self._hand_over()
            else:
                slot.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(slot)
            if isinstance(err, asyncio.CancelledError):
                raise
            raise APIError(503, f"no free slot within the {timeout_s:g} s request timeout; retry later",
                           "overloaded", {"Retry-After": self.retry_after()}) from err
        return time.perf_counter() - started

    def _hand_over(self) -> None:
        """Give a held slot to the oldest waiter, or free it."""
        while self._waiters:
            slot = self._waiters.popleft()
            if not slot.done():
                slot.set_result(None)  # `active` stays: the slot changes hands
                return
        self.active -= 1

    def release(self, held_s: float) -> None:
        self.mean_s = 0.8 * self.mean_s + 0.2 * held_s
        self._hand_over()

    @asynccontextmanager
    async def slot(self, timeout_s: float) -> AsyncIterator[float]:
        """`async with limiter.slot(t) as waited:` holds one slot for the block."""
        waited = await self.acquire(timeout_s)
        started = time.perf_counter()
        try:
            yield waited
        finally:
            self.release(time.perf_counter() - started)
