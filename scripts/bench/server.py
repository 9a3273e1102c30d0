"""nginx on 127.0.0.1 serving the generated inputs, and wrk to measure its ceiling.

nginx runs in the foreground as our child (daemon off) with its own prefix under .bench,
so nothing of the machine's own nginx set-up is read or touched, and stop() can always
end exactly the process we started.
"""

import os
import re
import signal
import socket
import subprocess
import time

from common import BenchError, clean_env, run

CONFIG = """\
# Written by scripts/bench/server.py for `make bench`; regenerated on every run.
{user}worker_processes 2;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    types {{ text/html html; image/jpeg jpg; application/octet-stream bin; }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def free_loopback_port():
    """A port that is free on 127.0.0.1 right now (nginx binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Nginx:
    def __init__(self, prefix, root):
        self.prefix, self.root = prefix, root
        self.proc, self.port = None, None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def _write_config(self):
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        # As root nginx would drop its workers to `nobody`, who may not read the inputs.
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = self.prefix / "nginx.conf"
        conf.write_text(CONFIG.format(user=user, prefix=self.prefix, port=self.port, root=self.root))
        return conf

    def start(self):
        for _ in range(3):  # another process may take the free port first: try a new one
            self.port = free_loopback_port()
            conf = self._write_config()
            log = open(self.prefix / "stderr.log", "wb")
            self.proc = subprocess.Popen(["nginx", "-p", str(self.prefix), "-c", str(conf)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         env=clean_env())
            log.close()
            if self._wait_ready():
                return self
            self.stop()
        raise BenchError(f"nginx did not start on 127.0.0.1: see {self.prefix}/error.log and stderr.log.")

    def _wait_ready(self, seconds=10):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self):
        """Graceful quit, then kill: only the master we started (it takes its workers along)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def wrk_ceiling(url):
    """nginx's own requests/s on one page, so we know the server is not the bottleneck."""
    _, out, _, _ = run(["wrk", "-t2", "-c8", "-d3s", url], what="wrk")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise BenchError("wrk printed no Requests/sec line.")
    if "Non-2xx" in out or "Socket errors" in out:
        raise BenchError(f"wrk saw errors from nginx on {url}: " + out.strip().splitlines()[-3])
    return float(match.group(1))
