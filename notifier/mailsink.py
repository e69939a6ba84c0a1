"""The local mail sink for development: `python -m notifier.mailsink` accepts SMTP on 127.0.0.1 and keeps each
message as an .eml file under var/mail, so reminders by e-mail can be read without a real relay."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Maildir:
    """aiosmtpd handler: one file per message, named by arrival order."""

    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            name = f"{time.time_ns()}.eml"
            (self.directory / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notifier.mailsink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args(argv)
    controller = Controller(Maildir(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail sink listening on {args.host}:{args.port}, writing to {args.dir}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
