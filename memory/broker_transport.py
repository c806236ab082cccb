"""Kombu's file-system transport, with atomic publishes.

Kombu 5.x writes a message by creating ``<name>.msg`` and then writing into it; a worker polling
the folder can take the file in between and read nothing, which kills the worker's consumer with a
JSONDecodeError and loses the message. Here a message is written under a name consumers ignore and
renamed into place (atomic on one file system), and a consumer that still meets a half-written
file (from a process publishing with plain kombu, e.g. celery beat) reads it again. Registered as
the ``filesystem://`` transport by ``use_atomic_filesystem_transport()``, which both the publishing
and the consuming side call.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

PARTIAL_READ_RETRIES = 50  # x 10 ms: a non-atomic writer (another process's kombu) still writing


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".partial"  # "<id>.<queue>.msg.partial" does not match "<queue>.msg": skipped
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        """Like kombu's, but a message file taken while a plain kombu publisher is still writing it
        is read again until complete, instead of crashing the consumer with a JSONDecodeError."""
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            folder = self.processed_folder if self.store_processed else tempfile.gettempdir()
            try:
                shutil.move(os.path.join(self.data_folder_in, name), folder)
            except OSError:
                continue  # taken by another consumer
            path = os.path.join(folder, name)
            payload = self._read_complete(path)
            if not self.store_processed:
                os.remove(path)
            if payload is None:
                logger.error("Dropped unreadable broker message %s (the sweeper republishes lost jobs).", name)
                continue
            return payload
        raise filesystem.Empty()

    @staticmethod
    def _read_complete(path: str):
        for _ in range(PARTIAL_READ_RETRIES):
            try:
                with open(path, "rb") as handle:
                    return loads(bytes_to_str(handle.read()))
            except ValueError:
                time.sleep(0.01)  # the writer still has the (moved) file open
            except OSError as exc:
                raise ChannelError(f"Cannot read file {path!r} from queue.") from exc
        return None


class Transport(filesystem.Transport):
    Channel = Channel


def use_atomic_filesystem_transport() -> None:
    TRANSPORT_ALIASES["filesystem"] = "memory.broker_transport:Transport"
