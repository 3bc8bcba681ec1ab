"""A webhook receiver for lunas's tests that verifies every delivery with the official Standard
Webhooks library (`standardwebhooks` on PyPI).

usage: webhook_peer.py PORT OUT_DIR SECRET FAIL_FIRST
Answers 500 to the first FAIL_FIRST deliveries and 204 after that. Each delivery is written to
OUT_DIR/<n>.json as {"webhook_id", "verified", "error", "payload"}. Prints "ready" once it listens.
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

PORT, OUT_DIR, SECRET, FAIL_FIRST = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
lock = threading.Lock()
count = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("content-length", 0))).decode("utf-8")
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(SECRET).verify(body, headers)
            verified, error = True, None
        except Exception as e:  # the library raises WebhookVerificationError
            verified, error = False, str(e)
        with lock:
            count += 1
            n = count
        record = {"webhook_id": headers.get("webhook-id"), "verified": verified, "error": error, "payload": json.loads(body)}
        path = os.path.join(OUT_DIR, f"{n:04d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(path + ".tmp", path)
        self.send_response(500 if n <= FAIL_FIRST else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
server.shutdown()
