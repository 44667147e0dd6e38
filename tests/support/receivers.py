"""Receivers of notifications, run as processes by the tests, each written from the published
description of what it receives, not from the suite's sender code:

- ``webhook``: a unit's system, checking deliveries as docs/notifications.md tells receivers;
- ``tencent``: Tencent Cloud's SMS API ``SendSms`` (version 2021-01-11), checking the
  TC3-HMAC-SHA256 signature as Tencent documents it ("签名方法 v3") and answering in its format.

Each appends what it accepted, one JSON object a line, to ``--out``.

    python -m tests.support.receivers webhook --port 9000 --secret whsec_… --out hooks.jsonl
    python -m tests.support.receivers tencent --port 9001 --secret-id AKID… --secret-key … \
        --out sms.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver(BaseHTTPRequestHandler):
    out: Path
    lock = threading.Lock()  # one request at a time reads and appends the file

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def answer(self, status: int, body: dict[str, object] | None = None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, entry: dict[str, object]) -> None:
        with self.out.open("a", encoding="utf-8") as out:  # callers hold the lock
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def seen(self, key: str, value: str) -> bool:
        if not self.out.exists():
            return False
        lines = self.out.read_text(encoding="utf-8").splitlines()
        return any(json.loads(line).get(key) == value for line in lines)


class WebhookReceiver(Receiver):
    secret: str

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        timestamp = self.headers.get("X-Hotline-Timestamp", "")
        given = self.headers.get("X-Hotline-Signature", "")
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        if not given.startswith("v1=") or not hmac.compare_digest(given[3:], expected):
            self.answer(401, {"error": "bad signature"})
            return
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            self.answer(401, {"error": "stale"})
            return
        delivery = self.headers["X-Hotline-Delivery"]
        with self.lock:
            if self.seen("delivery", delivery):  # taken before: noted, not applied again
                self.record({"repeat": delivery})
            else:
                self.record(
                    {
                        "delivery": delivery,
                        "event": self.headers["X-Hotline-Event"],
                        "body": json.loads(raw),
                    }
                )
        self.answer(200)


class TencentSmsReceiver(Receiver):
    secret_id: str
    secret_key: str

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        request_id = f"req-{time.time_ns()}"
        problem = self.check_signature(raw)
        if problem:
            error = {"Code": "AuthFailure.SignatureFailure", "Message": problem}
            self.answer(200, {"Response": {"Error": error, "RequestId": request_id}})
            return
        if self.headers.get("X-TC-Action") != "SendSms":
            error = {"Code": "InvalidAction", "Message": "unknown action"}
            self.answer(200, {"Response": {"Error": error, "RequestId": request_id}})
            return
        body = json.loads(raw)
        with self.lock:
            self.record({"request": body, "version": self.headers.get("X-TC-Version")})
        statuses = [
            {
                "SerialNo": f"serial-{i}",
                "PhoneNumber": phone,
                "Fee": 1,
                "SessionContext": body.get("SessionContext", ""),
                "Code": "Ok",
                "Message": "send success",
                "IsoCode": "CN",
            }
            for i, phone in enumerate(body["PhoneNumberSet"])
        ]
        self.answer(200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}})

    def check_signature(self, raw: bytes) -> str | None:
        """Tencent's v3 signature: rebuild the canonical request from the headers the
        Authorization names, derive the signing key from the date, and compare."""
        authorization = self.headers.get("Authorization", "")
        algorithm, _, rest = authorization.partition(" ")
        parts = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
        if algorithm != "TC3-HMAC-SHA256" or {"Credential", "SignedHeaders", "Signature"} - set(
            parts
        ):
            return "malformed Authorization"
        secret_id, date, service, terminator = parts["Credential"].split("/")
        if secret_id != self.secret_id or terminator != "tc3_request":
            return "unknown SecretId"
        timestamp = self.headers.get("X-TC-Timestamp", "")
        if datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d") != date:
            return "date does not match the timestamp"
        if abs(time.time() - int(timestamp)) > 300:
            return "signature expired"
        signed = parts["SignedHeaders"].split(";")
        canonical_headers = "".join(
            f"{name}:{self.headers.get(name, '').strip().lower()}\n" for name in signed
        )
        canonical_request = "\n".join(
            [
                self.command,
                "/",
                "",
                canonical_headers,
                parts["SignedHeaders"],
                hashlib.sha256(raw).hexdigest(),
            ]
        )
        string_to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                timestamp,
                f"{date}/{service}/tc3_request",
                hashlib.sha256(canonical_request.encode()).hexdigest(),
            ]
        )
        key = ("TC3" + self.secret_key).encode()
        for part in (date, service, "tc3_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, parts["Signature"]) else "signature mismatch"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["webhook", "tencent"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--secret", default="")
    parser.add_argument("--secret-id", default="")
    parser.add_argument("--secret-key", default="")
    args = parser.parse_args()
    handler: type[Receiver]
    if args.kind == "webhook":
        handler = type("Hook", (WebhookReceiver,), {"secret": args.secret, "out": args.out})
    else:
        handler = type(
            "Sms",
            (TencentSmsReceiver,),
            {"secret_id": args.secret_id, "secret_key": args.secret_key, "out": args.out},
        )
    ThreadingHTTPServer(("127.0.0.1", args.port), handler).serve_forever()


if __name__ == "__main__":
    main()
