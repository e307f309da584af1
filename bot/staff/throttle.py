"""What stands between an anonymous flood of sign-ins and the database: a process's own memory.

Each process refuses, before any database work or password hashing, a sign-in whose account or address has
made too many attempts lately (a sliding window per key, over a bounded table of keys: a flood of rotating
names or addresses evicts the oldest keys instead of growing it); sign-ins are handled one at a time and a few
a second (bot/staff/pacing.py), the rest waiting their turn, idle, and beyond a bound refused at once. The database
count in
bot/staff/accounts.py stays the guard across processes. Failed sign-ins reach the audit log collapsed: the
first for a name and address in a window is written at once, the rest of that window as one row with a count.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.staff.pacing import Pacer

Clock = Callable[[], float]


class SlidingWindow:
    """At most `limit` attempts per key within `window` seconds, over at most `capacity` keys (least recently
    used keys are forgotten first)."""

    def __init__(self, limit: int, window: float, capacity: int, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.capacity = capacity
        self._clock = clock
        self._keys: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def _recent(self, key: str) -> deque[float] | None:
        stamps = self._keys.get(key)
        if stamps is None:
            return None
        horizon = self._clock() - self.window
        while stamps and stamps[0] <= horizon:
            stamps.popleft()
        if not stamps:
            del self._keys[key]
            return None
        return stamps

    def full(self, key: str) -> bool:
        stamps = self._recent(key)
        return stamps is not None and len(stamps) >= self.limit

    def add(self, key: str) -> float:
        """Counts an attempt now; the returned stamp lets `forget` take it back."""
        stamp = self._clock()
        stamps = self._recent(key)
        if stamps is None:
            stamps = self._keys[key] = deque(maxlen=self.limit)
            while len(self._keys) > self.capacity:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
        stamps.append(stamp)
        return stamp

    def forget(self, key: str, stamp: float) -> None:
        """An attempt that succeeded does not count against the account or the address."""
        stamps = self._keys.get(key)
        if stamps is not None and stamp in stamps:
            stamps.remove(stamp)


@dataclass
class Window:
    """Failed sign-ins of one name from one address since `opened`, beyond the one already written."""

    opened: float
    failed: int = 0
    throttled: int = 0


@dataclass
class Collapsed:
    """A row for the audit log that stands for several failed sign-ins."""

    username: str
    address: str
    failed: int
    throttled: int


@dataclass
class FailureDigest:
    """Failed and refused sign-ins per (name, address), so the audit log gets one row at a window's first
    failure and one more with the counts when the window closes, instead of a row per attempt."""

    window: float
    capacity: int
    clock: Clock = time.monotonic
    _open: OrderedDict[tuple[str, str], Window] = field(default_factory=OrderedDict)
    # Counts of windows pushed out early by a flood of new keys: written as one row for "many".
    _spilled: Window | None = None

    def note(self, username: str, address: str, *, throttled: bool) -> bool:
        """Counts a failure (or a refusal); True when it is the first of its window and is to be written now.
        A refusal alone never asks for a write."""
        key = (username, address)
        current = self._open.get(key)
        if current is None:
            current = self._open[key] = Window(opened=self.clock())
            while len(self._open) > self.capacity:
                _, pushed = self._open.popitem(last=False)
                spilled = self._spilled or Window(opened=pushed.opened)
                spilled.failed += pushed.failed
                spilled.throttled += pushed.throttled
                self._spilled = spilled
            if not throttled:
                return True
        if throttled:
            current.throttled += 1
        else:
            current.failed += 1
        return False

    def closed(self, everything: bool = False) -> list[Collapsed]:
        """The windows that have ended (all of them when `everything`), with anything left to write."""
        horizon = self.clock() - self.window
        out: list[Collapsed] = []
        while self._open:
            key, first = next(iter(self._open.items()))
            if not everything and first.opened > horizon:
                break
            del self._open[key]
            if first.failed or first.throttled:
                out.append(Collapsed(key[0], key[1], first.failed, first.throttled))
        if self._spilled is not None and (everything or self._spilled.opened <= horizon):
            out.append(Collapsed("-", "many", self._spilled.failed, self._spilled.throttled))
            self._spilled = None
        return out


@dataclass
class SignInGuard:
    """A process's defences for the sign-in form (one per application)."""

    by_account: SlidingWindow
    by_address: SlidingWindow
    gate: Pacer
    digest: FailureDigest

    def admit(self, username: str, address: str) -> tuple[float, float] | None:
        """Counts the attempt against both keys, or None when either is full (nothing is counted then)."""
        if self.by_account.full(username) or self.by_address.full(address):
            return None
        return self.by_account.add(username), self.by_address.add(address)

    def succeeded(self, username: str, address: str, stamps: tuple[float, float]) -> None:
        self.by_account.forget(username, stamps[0])
        self.by_address.forget(address, stamps[1])
