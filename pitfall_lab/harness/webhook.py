"""A loopback HTTP endpoint that counts calls and can hold one of them open, to stop a job at a
known point (the job is blocked in its N-th call) without sleeping."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Webhook:
    def __init__(self, hold_call: int | None = None, hold_for: float = 30):
        self.arm(hold_call)
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hook.calls.append(self.path)
                held, release = hook.held, hook.release  # this arming's, even if re-armed
                if len(hook.calls) == hook.hold_call:
                    held.set()
                    release.wait(hold_for)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/notify"
        # serve_forever checks for shutdown() once per poll interval, by default every 0.5 s.
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def arm(self, hold_call: int | None) -> None:
        """Count calls from zero again and hold the ``hold_call``-th one (None: hold none)."""
        if getattr(self, "release", None):
            self.release.set()  # a call still held from the last arming goes free
        self.calls: list[str] = []
        self.hold_call = hold_call
        self.held = threading.Event()  # set when the call to hold has arrived
        self.release = threading.Event()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
