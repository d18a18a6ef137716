"""A real SMTP server for the browser and API tests (aiosmtpd): accepts every message and saves
it in a folder as NNNN.eml (as received) and NNNN.json (envelope, headers and the decoded text
and HTML parts). Prints "listening PORT" once it accepts connections.

Usage: smtp_sink.py FOLDER [PORT] [--tls starttls|implicit --cert PEM --key PEM]
                                  [--user NAME --password SECRET]
With --tls starttls the server requires STARTTLS before anything else; with --tls implicit it
speaks TLS from the first byte (smtps). With --user, AUTH (PLAIN or LOGIN) is required and only
that name and password are accepted."""

import argparse
import asyncio
import json
import os
import ssl
from email import policy
from email.parser import BytesParser

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def lines(content):
    """Mail bodies travel with CRLF line ends; the tests compare with LF."""
    return content.replace("\r\n", "\n")


class Saver:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        message = BytesParser(policy=policy.default).parsebytes(raw)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(message["from"] or ""),
            "to": str(message["to"] or ""),
            "subject": str(message["subject"] or ""),
            "text": lines(text.get_content()) if text is not None else "",
            "html": lines(html.get_content()) if html is not None else "",
        }
        base = os.path.join(self.folder, "%04d" % self.count)
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        # Written under a temporary name first, so a reader never sees half a file.
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


def authenticator(user, password):
    """Accepts only `user` with `password`."""
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
        # handled=False: aiosmtpd answers the failure (535) itself.
        return AuthResult(success=ok, handled=False)
    return check


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    handler = Saver(args.folder)
    context = None
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    options = {"hostname": "sink.test"}
    if args.tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    if args.user:
        options.update(auth_required=True, authenticator=authenticator(args.user, args.password))
        if args.tls == "implicit":
            options.update(auth_require_tls=False)  # the whole session is TLS already
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **options), "127.0.0.1", args.port, ssl=context if args.tls == "implicit" else None
    )
    print("listening %d" % server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
