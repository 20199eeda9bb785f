"""Load through the real APIs while a test breaks things: clients referred, given a
consent and assessed into the centre (which opens a guidance case), each step on one of
the intake replicas in turn. What each acknowledged (201) step wrote is kept, so a test
can compare it with the event stores, JetStream and reporting afterwards."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from runtime import clock
from tests.support.factories import AREAS, referral_request


def consent_body() -> dict[str, Any]:
    return {"scopes": ["move_to_centre", "data_exchange_within_centre"], "given_on": str(clock.today())}


def assessment_body() -> dict[str, Any]:
    return {
        "assessed_on": str(clock.today()),
        "assessors": [
            {"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"},
            {"person_id": "sw-7", "role": "social_worker", "organisation": "mikkeli"},
        ],
        "findings": [{"area": a, "support_need": "some", "notes": "free text"} for a in AREAS],
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": "individual_service_guidance",
    }


@dataclass
class ClientRun:
    """One client's steps: the event ids of each acknowledged step."""

    client_id: str | None = None
    acknowledged: list[str] = field(default_factory=list)
    #: a step whose outcome is unknown (no answer, or a 5xx): it may or may not have written
    uncertain: bool = False
    steps_done: int = 0


@dataclass
class ReferralLoad:
    """``workers`` threads taking clients through referral, consent and assessment on
    ``intake_urls`` (round robin) until :meth:`stop`."""

    intake_urls: Sequence[str]
    token: str
    workers: int = 2
    timeout: float = 10.0
    runs: list[ClientRun] = field(default_factory=list)
    statuses: dict[int | str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_url: Any = None

    def start(self) -> ReferralLoad:
        self._next_url = itertools.cycle(self.intake_urls)
        for _ in range(self.workers):
            thread = threading.Thread(target=self._work, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> ReferralLoad:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout * 4)
        return self

    def wait_for_acknowledged(self, count: int, within: float = 60) -> None:
        """Until ``count`` more steps have been acknowledged than now (load is flowing)."""
        target = self.acknowledged_steps + count
        deadline = time.monotonic() + within
        while self.acknowledged_steps < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"load stalled: {self.acknowledged_steps} of {target}; {self.statuses}")
            time.sleep(0.1)

    @property
    def acknowledged_steps(self) -> int:
        with self._lock:
            return sum(run.steps_done for run in self.runs)

    @property
    def acknowledged_event_ids(self) -> set[str]:
        with self._lock:
            return {event_id for run in self.runs for event_id in run.acknowledged}

    def certain_runs(self) -> list[ClientRun]:
        """Clients none of whose steps had an unknown outcome."""
        with self._lock:
            return [run for run in self.runs if run.client_id and not run.uncertain]

    def _url(self) -> str:
        with self._lock:
            return str(next(self._next_url))

    def _count(self, status: int | str) -> None:
        with self._lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def _work(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(timeout=self.timeout, headers=headers) as http:
            while not self._stop.is_set():
                run = ClientRun()
                with self._lock:
                    self.runs.append(run)
                self._client(http, run)

    def _client(self, http: httpx.Client, run: ClientRun) -> None:
        steps = [
            ("/referrals", referral_request()),
            ("/clients/{id}/consents", consent_body()),
            ("/clients/{id}/assessment", assessment_body()),
        ]
        for path, body in steps:
            if self._stop.is_set():
                return
            url = self._url() + path.format(id=run.client_id)
            try:
                response = http.post(url, json=body)
            except httpx.HTTPError as exc:
                self._count(type(exc).__name__)
                run.uncertain = True
                time.sleep(0.2)  # the replica is away: do not spin
                return
            self._count(response.status_code)
            if response.status_code >= 500:
                run.uncertain = True
            if response.status_code != 201:
                time.sleep(0.2)
                return
            answer = response.json()
            with self._lock:
                run.client_id = run.client_id or answer["client_id"]
                run.acknowledged.extend(str(event_id) for event_id in answer["event_ids"])
                run.steps_done += 1
