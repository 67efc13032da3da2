"""The baseline for the function benchmarks: a bare func-python function that decodes a
CloudEvent and replies with it, with none of KubeSkippy's work."""

from cloudevents.v1.http import from_http, to_binary


class Echo:
    async def handle(self, scope, receive, send):
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        event = from_http(headers, body)
        out_headers, out_body = to_binary(event)
        raw = [(k.encode(), v.encode()) for k, v in out_headers.items()]
        raw.append((b"content-length", str(len(out_body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": out_body})

    def start(self, cfg):
        pass

    def stop(self):
        pass

    def alive(self):
        return True, "OK"

    def ready(self):
        return True, "OK"


def new():
    return Echo()
