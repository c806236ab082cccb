"""gunicorn settings for the web server, as bin/run (`make run`) starts it and as production should:

    gunicorn memori_site.wsgi -c memori_site/gunicorn.py -b 0.0.0.0:8000

Workers are processes (WEB_CONCURRENCY, default 2), each serving MEMORI_WEB_THREADS requests at
once (default 8; recall is NumPy work that releases the GIL, and the jobs endpoint may wait up to
30 s for augmentation). The worker class receives every request whole before a thread serves it
(memori_site/gunicorn_worker.py), so slow or stalled clients cost a socket, not a thread; a
request not received within MEMORI_REQUEST_READ_TIMEOUT seconds (default 30) gets a 408.
"""

from memori_site.env import env_int

worker_class = "memori_site.gunicorn_worker.BufferingThreadWorker"
workers = env_int("WEB_CONCURRENCY", 2)
threads = env_int("MEMORI_WEB_THREADS", 8)
# Connections one worker holds open (kept alive, or still arriving): slow clients queue here.
worker_connections = env_int("MEMORI_WEB_CONNECTIONS", 1000)
# A worker whose main loop has not reported for this long is restarted (threads may take longer).
timeout = env_int("MEMORI_WEB_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
