"""Reading a page a colleague linked to, without letting the link reach inside our own network (SSRF).

Every address the link's host resolves to must be public, unless an admin listed the host in
`[admins] fetch_hosts`. The connection then goes to the very address that was checked, with the
link's Host header and TLS server name, so a second DNS answer (DNS rebinding) cannot swap it for
an inside one. Each redirect is checked the same way. The whole fetch is bounded in time, size and
kind (HTML only), and every refusal is a `FetchRefused` whose message says why, for the confirmation.
"""

import codecs
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx

from bot.ground.text import normalize_space, one_line
from bot.hear.sources.http import USER_AGENT

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[IPAddress]]
"""(host, port) → every address the host resolves to."""

MAX_REDIRECTS = 3
MAX_BYTES = 1_000_000
TIMEOUT = 10.0
MAX_TITLE = 300
MAX_TEXT = 600
_PARAGRAPH = 40
"""A shorter paragraph is a byline or a cookie notice, not what the page is about."""
_HTML_TYPES = ("text/html", "application/xhtml+xml")

_REFUSED_NETWORKS = tuple(
    (why, ipaddress.ip_network(network))
    for why, network in (
        ("the cloud metadata address", "169.254.169.254/32"),
        ("the cloud metadata address", "fd00:ec2::254/128"),
        ("an unspecified address", "0.0.0.0/8"),
        ("a loopback address", "127.0.0.0/8"),
        ("a private address", "10.0.0.0/8"),
        ("a private address", "172.16.0.0/12"),
        ("a private address", "192.168.0.0/16"),
        ("a carrier-grade NAT address", "100.64.0.0/10"),
        ("a link-local address", "169.254.0.0/16"),
        ("a multicast address", "224.0.0.0/4"),
        ("a reserved address", "240.0.0.0/4"),
        ("an unspecified address", "::/128"),
        ("a loopback address", "::1/128"),
        ("a unique local address", "fc00::/7"),
        ("a link-local address", "fe80::/10"),
        ("a site-local address", "fec0::/10"),
        ("a multicast address", "ff00::/8"),
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class FetchRefused(Exception):
    """Why a page was not read, in words for the person who linked it."""


@dataclass(frozen=True)
class Page:
    title: str | None
    text: str | None
    """Its description (`og:description` or meta description), else its first paragraph."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 one carries, and the form it is carried in (these reach that IPv4 address)."""
    if address.ipv4_mapped:
        return "IPv4-mapped", address.ipv4_mapped
    if address.sixtofour:
        return "6to4", address.sixtofour
    if address.teredo:
        return "Teredo", address.teredo[1]
    if address in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return "IPv4-compatible", ipaddress.IPv4Address(int(address))
    return None


def refusal(address: IPAddress) -> str | None:
    """Why the bot must not connect to this address, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # a zone (`%eth0`) changes nothing
        embedded = _embedded_ipv4(address)
        if embedded:
            form, ipv4 = embedded
            why = refusal(ipv4)
            if why:
                return f"{why} in {form} form"
    for why, network in _REFUSED_NETWORKS:
        if network.version == address.version and address in network:
            return why
    if not address.is_global:
        return "a special-purpose address (documentation, benchmarking, reserved)"
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for the host, in its order."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchRefused(f"the host {host} could not be found") from None
    return list(dict.fromkeys(ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers))


@dataclass(frozen=True)
class _Target:
    """Where one request goes: the checked address, and the name the site expects to see."""

    url: httpx.URL
    address: IPAddress

    @property
    def host(self) -> str:
        return self.url.raw_host.decode("ascii")

    def request_url(self) -> httpx.URL:
        return self.url.copy_with(host=str(self.address))

    def headers(self) -> dict[str, str]:
        host = f"{self.host}:{self.url.port}" if self.url.port else self.host
        return {"Host": host, "User-Agent": USER_AGENT, "Accept": "text/html", "Accept-Encoding": "identity"}

    def extensions(self) -> dict[str, str]:
        return {"sni_hostname": self.host} if self.url.scheme == "https" else {}


def vet(
    url: str, *, allowed_hosts: Collection[str] = (), resolver: Resolver = resolve
) -> tuple[httpx.URL, list[IPAddress]]:
    """The link, parsed, and the addresses to connect to; refused unless every address of its host is
    public or the host is listed in `allowed_hosts`."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise FetchRefused("the link is not a valid web address") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchRefused("only http and https links are read")
    if parsed.userinfo:
        raise FetchRefused("the link carries a user name or password")
    if not parsed.raw_host:
        raise FetchRefused("the link names no host")
    host = parsed.raw_host.decode("ascii").lower()
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(host.strip("[]"))]
        host = str(addresses[0])  # as `[admins] fetch_hosts` writes it
    except ValueError:
        addresses = resolver(host, parsed.port or (443 if parsed.scheme == "https" else 80))
    if not addresses:
        raise FetchRefused(f"the host {host} could not be found")
    if host not in allowed_hosts:
        for address in addresses:
            why = refusal(address)
            if why:
                raise FetchRefused(
                    f"{host} resolves to {why} ({address}), which the bot does not read "
                    "(an admin can list the host in `[admins] fetch_hosts`)"
                )
    return parsed, addresses


def fetch_page(
    url: str,
    *,
    allowed_hosts: Collection[str] = (),
    resolver: Resolver = resolve,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_BYTES,
    verify: ssl.SSLContext | bool = True,
) -> Page:
    """The page's title and short text; raises FetchRefused saying why when it cannot or must not be read.

    `verify`: the certificates trusted for https (a test brings its own authority)."""
    allowed = {host.lower() for host in allowed_hosts}
    deadline = time.monotonic() + timeout
    try:
        with httpx.Client(trust_env=False, follow_redirects=False, verify=verify) as client:
            for _ in range(MAX_REDIRECTS + 1):
                parsed, addresses = vet(url, allowed_hosts=allowed, resolver=resolver)
                response = _send(client, parsed, addresses, deadline)
                try:
                    if response.is_redirect:
                        url = _redirected(parsed, response.headers["location"])
                        continue
                    return _read_page(response, deadline=deadline, max_bytes=max_bytes, timeout=timeout)
                finally:
                    response.close()
    except httpx.TimeoutException:
        raise FetchRefused(f"the site did not answer within {timeout:g} s") from None
    except httpx.HTTPError as error:
        raise FetchRefused(f"the site could not be reached ({type(error).__name__})") from None
    raise FetchRefused(f"the link redirected more than {MAX_REDIRECTS} times")


def _send(client: httpx.Client, url: httpx.URL, addresses: list[IPAddress], deadline: float) -> httpx.Response:
    """A GET to the first of the checked addresses that takes the connection, as a browser tries them in turn."""
    for index, address in enumerate(addresses):
        target = _Target(url, address)
        request = client.build_request(
            "GET",
            target.request_url(),
            headers=target.headers(),
            extensions=target.extensions(),
            timeout=max(0.1, deadline - time.monotonic()),
        )
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError:
            if index == len(addresses) - 1 or time.monotonic() > deadline:
                raise
    raise FetchRefused("the host has no address")  # vet() never returns an empty list


def _redirected(url: httpx.URL, location: str) -> str:
    try:
        return str(url.join(location))
    except httpx.InvalidURL:
        raise FetchRefused("it redirected to an address that is not valid") from None


def _read_page(response: httpx.Response, *, deadline: float, max_bytes: int, timeout: float) -> Page:
    if response.status_code != 200:
        raise FetchRefused(f"the site answered HTTP {response.status_code}")
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in _HTML_TYPES:
        raise FetchRefused(f"it is not a web page ({kind or 'no content type'})")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) >= max_bytes:
            del body[max_bytes:]  # a page's title and description come first: the rest is not needed
            break
        if time.monotonic() > deadline:
            raise FetchRefused(f"the site did not send the page within {timeout:g} s")
    page = summarize_html(bytes(body).decode(_charset(response, bytes(body)), errors="replace"))
    if not page.title and not page.text:
        raise FetchRefused("the page has no title or text to take")
    return page


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)


def _charset(response: httpx.Response, body: bytes) -> str:
    for candidate in (response.charset_encoding, *_META_CHARSET.findall(body[:4096])[:1]):
        name = candidate.decode("ascii") if isinstance(candidate, bytes) else candidate
        if name:
            try:
                b"".decode(name)  # a known codec that decodes bytes to text (not rot13 or zlib)
                return codecs.lookup(name).name
            except LookupError:
                continue
    return "utf-8"


class _Summary(HTMLParser):
    """Collects the title, the descriptions and the first paragraph; the rest of the page is ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self.paragraph = ""
        self._in: str | None = None
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "noscript", "svg"):
            self._skipping += 1
        elif tag == "meta":
            values = {name: value or "" for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").lower()
            if key in ("og:title", "og:description", "description") and values.get("content"):
                self.meta.setdefault(key, values["content"])
        elif tag == "title" and not self.title:
            self._in = "title"
        elif tag == "p" and not self.paragraph:
            self._in = "p"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript", "svg"):
            self._skipping = max(0, self._skipping - 1)
        elif tag == self._in:
            if tag == "p" and len(normalize_space(self.paragraph)) < _PARAGRAPH:
                self.paragraph = ""  # a byline or a cookie notice: wait for a real paragraph
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._skipping or self._in is None:
            return
        if self._in == "title":
            self.title += data
        else:
            self.paragraph += data


def _short(text: str | None, limit: int) -> str | None:
    return one_line(normalize_space(text or ""), limit) or None


def summarize_html(markup: str) -> Page:
    """A page's title and, kept short, what it says it is about."""
    parser = _Summary()
    parser.feed(markup)
    parser.close()
    title = parser.meta.get("og:title") or parser.title
    paragraph = parser.paragraph if len(normalize_space(parser.paragraph)) >= _PARAGRAPH else ""
    text = parser.meta.get("og:description") or parser.meta.get("description") or paragraph
    return Page(title=_short(title, MAX_TITLE), text=_short(text, MAX_TEXT))
