"""Fetching an article or a feed over HTTP, bounded: http(s) only, a timeout, a size limit counted
while reading, a few redirects each checked again, and a pause between requests to one host.
Conditional requests (ETag / Last-Modified) let a feed that has not changed cost one small reply."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from qa_bot.errors import InputError

USER_AGENT = "qa-bot/0.1 (+offline news question answering)"


def _public_address(url: str) -> str:
    """The address to connect to for `url`'s host, once every address it resolves to is public."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(host, None)]
    except (socket.gaierror, UnicodeError):
        raise InputError(f"{url} names a host that cannot be found ({host}).") from None
    private = [a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_global]
    if private or not addresses:
        raise InputError(
            f"{url} points into a private network ({private[0] if private else 'no address'}); only public web "
            "addresses can be added from the page (the server's operator can allow others with fetch_private_hosts)."
        )
    return addresses[0]


def _pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """`url` aimed at `address` (the one checked), with the Host header and TLS name of the original:
    resolving the name again could give another answer (DNS rebinding) and reach a private host."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    port = f":{parts.port}" if parts.port else ""
    named = parts.hostname + port if ":" not in (parts.hostname or "") else f"[{parts.hostname}]{port}"
    extensions = {"sni_hostname": parts.hostname} if parts.scheme.lower() == "https" else {}
    return parts._replace(netloc=host + port).geturl(), {"Host": named}, extensions


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class Fetched:
    url: str  # where the content came from, after redirects
    status: int  # 200, or 304 when a conditional request found nothing new
    content_type: str
    body: bytes
    etag: str = ""
    last_modified: str = ""


@dataclass
class Fetcher:
    """One per ingest run: it remembers when each host was last asked, to keep to `host_delay`."""

    timeout: float = 20.0
    max_bytes: int = 20 * 2**20
    max_redirects: int = 5
    host_delay: float = 1.0
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, url: str, etag: str = "", last_modified: str = "", public_only: bool = False) -> Fetched:
        """The body at `url`; an unreachable, refused, oversized or non-http(s) URL is an InputError.
        With `public_only` (an address a web client gave), every hop must resolve to public
        addresses only, so a client cannot make the server read its own network."""
        import httpx

        headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            for _ in range(self.max_redirects + 1):
                self._check_scheme(current)
                target, extra, extensions = current, {}, {}
                if public_only:
                    target, extra, extensions = _pinned(current, _public_address(current))
                self._wait_for_host(current)
                try:
                    with client.stream("GET", target, headers={**headers, **extra}, extensions=extensions) as response:
                        if response.is_redirect:
                            location = response.headers.get("location", "")
                            if not location:
                                raise InputError(f"{current} redirects nowhere.")
                            current = urljoin(current, location)
                            continue
                        if response.status_code == 304:
                            return Fetched(current, 304, "", b"", etag, last_modified)
                        if response.status_code >= 400:
                            raise InputError(f"{current} answered HTTP {response.status_code}.")
                        body = self._read_bounded(current, response)
                        return Fetched(
                            current, response.status_code, response.headers.get("content-type", ""), body,
                            response.headers.get("etag", ""), response.headers.get("last-modified", ""),
                        )
                except httpx.TimeoutException:
                    raise InputError(f"{current} did not answer within {self.timeout:g} s.") from None
                except httpx.HTTPError as exc:
                    raise InputError(f"{current} could not be fetched ({type(exc).__name__}).") from None
        raise InputError(f"{url} redirects more than {self.max_redirects} times.")

    def _read_bounded(self, url: str, response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise InputError(f"{url} is {int(declared) / 2**20:.1f} MB; the limit is {self.max_bytes / 2**20:g} MB.")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise InputError(f"{url} is larger than the {self.max_bytes / 2**20:g} MB limit.")
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _check_scheme(url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise InputError(f"{url} is not an http(s) address; only web pages and feeds can be fetched.")

    def _wait_for_host(self, url: str) -> None:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            wait = self._last.get(host, 0.0) + self.host_delay - time.monotonic()
            self._last[host] = time.monotonic() + max(wait, 0.0)
        if wait > 0:
            time.sleep(wait)
