"""`mem.augmentation.wait()`: block until every exchange this Memori object recorded has been augmented."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from memori.errors import AugmentationTimeout, MemoriApiError, MemoriUnavailable
from memori.recordings import Recordings
from memori.transport import Transport

logger = logging.getLogger("memori")
MAX_SERVER_WAIT = 30  # the server holds GET /jobs/?wait= for at most this long
POLL_IDS = 200  # job ids per poll: the server takes at most 500, and the URL must fit a request line


@dataclass
class AugmentationResult:
    """What wait() found: the job ids that finished, and those that failed with their error."""

    done: list[int] = field(default_factory=list)
    failed: dict[int | str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


class Augmentation:
    def __init__(self, recordings: Recordings, transport: Transport) -> None:
        self._recordings = recordings
        self._transport = transport

    def wait(self, timeout: float | None = None) -> AugmentationResult:
        """Wait until all exchanges recorded by this object are delivered and augmented.

        Returns an AugmentationResult (failed jobs are listed there and logged as a warning).
        Raises AugmentationTimeout if `timeout` seconds pass first; with timeout=None it waits as long
        as it takes (exchanges spooled while the server is down are delivered when it answers again).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        recordings = self._recordings
        keys = recordings.submitted_keys()
        result = AugmentationResult()

        recordings.drain(_remaining(deadline, default=60.0))
        job_ids: dict[int, str] = {}
        while True:
            missing = []
            for key in keys:
                answer = recordings.result(key)
                rejection = recordings.rejection(key)
                if answer and answer.get("job_id") is not None:
                    job_ids[int(answer["job_id"])] = key
                elif rejection:
                    result.failed[key] = f"the server refused the exchange: {rejection}"
                else:
                    missing.append(key)
            if not missing:
                break
            if _remaining(deadline, default=1.0) <= 0:
                raise AugmentationTimeout(
                    f"{len(missing)} exchange(s) not yet delivered to the memory server (spooled; "
                    "they are delivered when it answers again)",
                    pending=[],
                )
            recordings.deliver_spool_now()
            recordings.drain(min(0.5, _remaining(deadline, default=0.5)))
            time.sleep(min(0.5, _remaining(deadline, default=0.5)))

        pending = sorted(job_ids)
        while pending:
            wait_for = int(min(MAX_SERVER_WAIT, max(0, _remaining(deadline, default=MAX_SERVER_WAIT))))
            try:
                answer = self._transport.get(
                    "/api/v1/jobs/",
                    params={"ids": ",".join(str(j) for j in pending[:POLL_IDS]), "wait": wait_for},
                    timeout=wait_for + 10,
                )
            except (MemoriUnavailable, MemoriApiError) as err:
                logger.warning("memori: could not poll augmentation jobs (%s); retrying", err)
                answer = None
                time.sleep(min(1.0, max(0.0, _remaining(deadline, default=1.0))))
            if answer is not None:
                still = []
                for job in answer.get("jobs", []):
                    if job.get("status") == "done":
                        result.done.append(int(job["id"]))
                    elif job.get("status") == "failed":
                        result.failed[int(job["id"])] = job.get("error") or "failed"
                    else:
                        still.append(int(job["id"]))
                pending = still + pending[POLL_IDS:]
            if pending and _remaining(deadline, default=1.0) <= 0:
                raise AugmentationTimeout(f"augmentation jobs still running: {pending}", pending=pending)
        if result.failed:
            logger.warning("memori: augmentation failed for %s", result.failed)
        return result


def _remaining(deadline: float | None, *, default: float) -> float:
    return default if deadline is None else deadline - time.monotonic()
