"""A real SMTP server for lunas's tests (aiosmtpd).

usage: smtp_peer.py PORT OUT_DIR MODE
MODE: accept   - take every message and write it, decoded, to OUT_DIR/<n>.json
      tempfail - answer RCPT with 451 (try again later)
      permfail - answer RCPT with 550 (no such mailbox)
Prints "ready" on stdout once it listens.
"""
import email
import email.policy
import json
import os
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out_dir, mode):
        self.out_dir = out_dir
        self.mode = mode
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "tempfail":
            return "451 4.3.0 mailbox busy, try again later"
        if self.mode == "permfail":
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        record = {
            "to": envelope.rcpt_tos,
            "from": str(parsed["From"]),
            "subject": str(parsed["Subject"]),
            "message_id": str(parsed["Message-ID"]),
            "body": parsed.get_body(preferencelist=("plain",)).get_content(),
        }
        path = os.path.join(self.out_dir, f"{self.count:04d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def main():
    port, out_dir, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    controller = Controller(Handler(out_dir, mode), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
