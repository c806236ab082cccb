"""A gunicorn worker that receives each request whole before a thread serves it.

gunicorn's threaded worker (gthread) gives a connection to a thread as soon as its first bytes
arrive, and the thread then blocks reading the rest: a few dozen clients that send half a request
(slowloris), or a body shorter than its Content-Length, hold every thread and the site stops
answering. A buffering proxy (nginx) in front is the usual cure; this worker does the same job
itself, so `make run` and a bare deployment survive it too. The worker's main loop reads requests
without blocking, as they trickle in, and only a complete one (headers, and a body up to
``MAX_BUFFERED_BODY``) is handed to the thread pool, with its bytes already read. A request that has
not arrived whole within ``MEMORI_REQUEST_READ_TIMEOUT`` seconds (default 30) is answered 408 and
closed. TLS and HTTP/2 connections (not used by Memori: TLS ends at the proxy) take gunicorn's own
path.
"""

from __future__ import annotations

import errno
import re
import selectors
import time
from functools import partial

from gunicorn.workers.gthread import ThreadWorker

from memori_site.env import env_float, env_int

READ_TIMEOUT = env_float("MEMORI_REQUEST_READ_TIMEOUT", 30.0)
# Bodies up to this size are received whole before a thread is taken (an API import's 5 MB fits).
MAX_BUFFERED_BODY = env_int("MEMORI_MAX_BUFFERED_BODY", 8 * 1024 * 1024)
MAX_HEADER = 64 * 1024  # beyond this without a blank line, the parser refuses the request anyway
RECV_SIZE = 256 * 1024
TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*$", re.I | re.M)
CHUNKED = re.compile(rb"^transfer-encoding:.*chunked", re.I | re.M)
EXPECT_CONTINUE = re.compile(rb"^expect:[ \t]*100-continue", re.I | re.M)


def request_complete(data: bytes) -> bool:
    """Whether ``data`` holds a whole request: its headers and the body they announce (a chunked
    body up to its last chunk), or so much that a thread should take it from here."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return len(data) > MAX_HEADER
    head, body = data[:end], data[end + 4 :]
    if EXPECT_CONTINUE.search(head):
        return True  # the client waits for "100 Continue" before its body: the thread's parser answers it
    if CHUNKED.search(head):
        return body.endswith(b"0\r\n\r\n") or len(body) > MAX_BUFFERED_BODY
    length = CONTENT_LENGTH.search(head)
    wanted = int(length.group(1)) if length else 0
    return len(body) >= min(wanted, MAX_BUFFERED_BODY)


class BufferingThreadWorker(ThreadWorker):
    def init_process(self):
        self.buffering = {}  # connection -> (bytes received so far, deadline)
        super().init_process()

    def enqueue_req(self, conn):
        if self.cfg.is_ssl or conn.is_http2:
            return super().enqueue_req(conn)
        held = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        if request_complete(held):
            return self._hand_over(conn, held)
        conn.sock.setblocking(False)
        self.buffering[conn] = (held, time.monotonic() + READ_TIMEOUT)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._receive, conn))

    def _receive(self, conn, _sock):
        held, deadline = self.buffering[conn]
        try:
            chunk = conn.sock.recv(RECV_SIZE)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return
            chunk = b""
        if not chunk:  # the client went away
            self._drop(conn)
            return
        held += chunk
        if request_complete(held):
            self.poller.unregister(conn.sock)
            del self.buffering[conn]
            self._hand_over(conn, held)
        else:
            self.buffering[conn] = (held, deadline)

    def _hand_over(self, conn, data: bytes):
        conn.sock.setblocking(True)
        conn.data_ready = True
        conn.prebuffered = data
        super().enqueue_req(conn)

    def handle(self, conn):
        data = getattr(conn, "prebuffered", b"")
        conn.prebuffered = b""
        if data:
            conn.init()
            conn.parser.unreader.unread(data)
        return super().handle(conn)

    def _drop(self, conn, answer: bytes = b""):
        self.poller.unregister(conn.sock)
        del self.buffering[conn]
        if answer:
            try:
                conn.sock.send(answer)
            except OSError:
                pass
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn, (_, deadline) in list(self.buffering.items()):
            if deadline < now:
                self._drop(conn, TIMED_OUT)
