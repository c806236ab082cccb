"""Kombu's file-system transport, with atomic publishes.

Kombu 5.x writes a message by creating ``<name>.msg`` and then writing into it; a worker polling
the folder can take the file in between and read nothing, which kills the worker's consumer with a
JSONDecodeError and loses the message. Here a message is written under a name consumers ignore and
renamed into place (atomic on one file system). Registered as the ``filesystem://`` transport by
``use_atomic_filesystem_transport()``, which both the publishing and the consuming side call.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


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
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def use_atomic_filesystem_transport() -> None:
    TRANSPORT_ALIASES["filesystem"] = "memory.broker_transport:Transport"
