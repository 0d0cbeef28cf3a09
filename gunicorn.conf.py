"""gunicorn's settings, read from the working directory by the image's web process and the
benchmark: the command line gives the bind address and the workers."""

from gunicorn.http import wsgi

_headers = wsgi.Response.default_headers


def _without_server(self: wsgi.Response) -> list[str]:
    # No "Server: gunicorn/<version>" on every response: it tells an attacker what to try.
    return [header for header in _headers(self) if not header.lower().startswith("server:")]


wsgi.Response.default_headers = _without_server
