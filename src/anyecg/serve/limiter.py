"""Admission control: `concurrency` requests at work, `queue` waiting, the rest answered 429 at once.

A request that waits longer than its timeout for a slot is answered 503. Both carry `Retry-After`, estimated
from the recent service time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyecg.serve.errors import APIError


class Limiter:
    def __init__(self, concurrency: int, queue: int):
        self.concurrency, self.queue = concurrency, queue
        self.active = 0
        self.waiting = 0
        self.mean_s = 1.0  # exponential moving average of the time a request holds a slot
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sem = asyncio.Semaphore(concurrency)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (a new test client): fresh state
            self._loop, self._sem, self.active, self.waiting = loop, asyncio.Semaphore(self.concurrency), 0, 0
        return self._sem

    def retry_after(self) -> str:
        return str(max(1, math.ceil(self.mean_s * (self.waiting + 1) / self.concurrency)))

    async def acquire(self, timeout_s: float) -> float:
        """Wait for a slot; returns the seconds waited. 429 when the queue is full, 503 after `timeout_s`."""
        sem = self._semaphore()
        if self.active >= self.concurrency and self.waiting >= self.queue:
            raise APIError(429, f"server busy: {self.active} requests in progress and {self.waiting} waiting "
                           f"(queue of {self.queue}); retry later", "rate_limited",
                           {"Retry-After": self.retry_after()})
        started = time.perf_counter()
        self.waiting += 1
        try:
            await asyncio.wait_for(sem.acquire(), timeout_s)
        except TimeoutError as err:
            raise APIError(503, f"no free slot within the {timeout_s:g} s request timeout; retry later",
                           "overloaded", {"Retry-After": self.retry_after()}) from err
        finally:
            self.waiting -= 1
        self.active += 1
        return time.perf_counter() - started

    def release(self, held_s: float) -> None:
        self.active -= 1
        self.mean_s = 0.8 * self.mean_s + 0.2 * held_s
        self._sem.release()

    @asynccontextmanager
    async def slot(self, timeout_s: float) -> AsyncIterator[float]:
        """`async with limiter.slot(t) as waited:` holds one slot for the block."""
        waited = await self.acquire(timeout_s)
        started = time.perf_counter()
        try:
            yield waited
        finally:
            self.release(time.perf_counter() - started)
