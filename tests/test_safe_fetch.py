"""Reading a linked page safely: which addresses are refused, and real HTTP against local servers."""

import ipaddress
import shutil
import ssl
import subprocess
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.app.standin.serving import serve_in_thread
from bot.hear.safe_fetch import MAX_REDIRECTS, FetchRefused, fetch_page, refusal, summarize_html, vet

HTML = "text/html; charset=utf-8"
PAGE = """<!doctype html><html><head><title>Acme review: slow support</title>
<meta name="description" content="A customer says Acme support took a week to answer."></head>
<body><p>Short byline</p>
<p>I waited a whole week for Acme support to answer my ticket about billing.</p></body></html>"""


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("93.184.216.34", None),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("2002:5db8:d822::1", None),  # 6to4 of a public address is public
        ("127.0.0.1", "a loopback address"),
        ("127.1.2.3", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.254", "a private address"),
        ("192.168.1.1", "a private address"),
        ("100.64.0.1", "a carrier-grade NAT address"),
        ("100.127.255.254", "a carrier-grade NAT address"),
        ("169.254.169.254", "the cloud metadata address"),
        ("169.254.10.1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("239.255.255.250", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("192.0.2.10", "a special-purpose address (documentation, benchmarking, reserved)"),
        ("198.18.0.1", "a special-purpose address (documentation, benchmarking, reserved)"),
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fd00:ec2::254", "the cloud metadata address"),
        ("fd12:3456::1", "a unique local address"),
        ("fe80::1", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address in IPv4-mapped form"),
        ("::ffff:169.254.169.254", "the cloud metadata address in IPv4-mapped form"),
        ("::ffff:10.0.0.1", "a private address in IPv4-mapped form"),
        ("2002:7f00:1::", "a loopback address in 6to4 form"),
        ("2002:a9fe:a9fe::1", "the cloud metadata address in 6to4 form"),
        ("64:ff9b::c0a8:101", "a private address in NAT64 form"),
        ("::127.0.0.1", "a loopback address in IPv4-compatible form"),
        ("2001:db8::1", "a special-purpose address (documentation, benchmarking, reserved)"),
    ],
)
def test_only_public_addresses_are_read(address, why):
    assert refusal(ipaddress.ip_address(address)) == why


def resolves(table: dict[str, list[str]]):
    """A resolver that answers from a table, as DNS would; it records each question."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        asked.append(host)
        if host not in table:
            raise FetchRefused(f"the host {host} could not be found")
        return [ipaddress.ip_address(address) for address in table[host]]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


def test_a_host_is_refused_if_any_of_its_addresses_is_private():
    resolver = resolves({"news.example": ["93.184.216.34", "10.0.0.5"], "ok.example": ["93.184.216.34"]})
    with pytest.raises(FetchRefused, match=r"news.example resolves to a private address \(10.0.0.5\)"):
        vet("https://news.example/story", resolver=resolver)
    assert vet("https://ok.example/story", resolver=resolver)[1] == [ipaddress.ip_address("93.184.216.34")]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/file", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://example.com/", "only http and https"),
        ("http://user:secret@example.com/", "user name or password"),
        ("http://127.0.0.1:8080/admin", "a loopback address"),
        ("http://[::1]/", "a loopback address"),
        ("http://[::ffff:7f00:1]/", "loopback address in IPv4-mapped form"),
        ("http://169.254.169.254/latest/meta-data/", "the cloud metadata address"),
        ("http://[fd00:ec2::254]/", "the cloud metadata address"),
        ("http://metadata.example/", "the cloud metadata address"),
        ("http://nowhere.example/", "could not be found"),
    ],
)
def test_links_that_must_not_be_read_are_refused_before_any_connection(url, why):
    with pytest.raises(FetchRefused, match=why):
        fetch_page(url, resolver=resolves({"metadata.example": ["169.254.169.254"]}))


def test_a_page_on_this_machine_is_refused_by_default(api):
    api.answer("/review", PAGE, content_type=HTML)
    with pytest.raises(FetchRefused, match="loopback"):
        fetch_page(api.url("/review"))
    assert api.requests == []


@pytest.mark.parametrize("allowed", ["127.0.0.1", "localhost"])
def test_a_host_listed_in_fetch_hosts_is_read_even_if_private(api, allowed):
    api.answer("/review", PAGE, content_type=HTML)
    url = api.url("/review").replace("127.0.0.1", allowed)
    page = fetch_page(url, allowed_hosts=[allowed])
    assert page.title == "Acme review: slow support"
    assert page.text == "A customer says Acme support took a week to answer."


def test_the_vetted_address_is_the_one_connected_to_with_the_links_host_name(api):
    """DNS rebinding: the name is resolved once, by the guard; the system resolver never sees it."""
    api.answer("/review", PAGE, content_type=HTML)
    resolver = resolves({"intranet.example": ["127.0.0.1"]})
    port = api.url().split(":")[2].rstrip("/")
    page = fetch_page(f"http://intranet.example:{port}/review", allowed_hosts=["intranet.example"], resolver=resolver)
    assert page.title == "Acme review: slow support"
    assert resolver.asked == ["intranet.example"]
    assert api.requests_to("/review")[0].headers["host"] == f"intranet.example:{port}"


def test_a_redirect_from_an_allowed_host_to_a_private_one_is_refused(api):
    port = api.url().split(":")[2].rstrip("/")
    api.answer("/go", "", status=302, content_type=HTML, headers={"Location": api.url("/secret")})
    api.answer("/meta", "", status=301, content_type=HTML, headers={"Location": "http://metadata.example/latest"})
    api.answer("/secret", PAGE, content_type=HTML)
    resolver = resolves({"intranet.example": ["127.0.0.1"], "metadata.example": ["169.254.169.254"]})

    with pytest.raises(FetchRefused, match=r"127.0.0.1 resolves to a loopback address"):
        fetch_page(f"http://intranet.example:{port}/go", allowed_hosts=["intranet.example"], resolver=resolver)
    with pytest.raises(FetchRefused, match="cloud metadata"):
        fetch_page(f"http://intranet.example:{port}/meta", allowed_hosts=["intranet.example"], resolver=resolver)
    assert api.requests_to("/secret") == []


def test_redirects_are_followed_at_most_three_times(api):
    for hop in range(5):
        api.answer(f"/hop{hop}", "", status=302, content_type=HTML, headers={"Location": f"/hop{hop + 1}"})
    api.answer(f"/hop{MAX_REDIRECTS}", PAGE, content_type=HTML)
    assert fetch_page(api.url("/hop0"), allowed_hosts=["127.0.0.1"]).title == "Acme review: slow support"

    api.answer(f"/hop{MAX_REDIRECTS}", "", status=302, content_type=HTML, headers={"Location": "/hop4"})
    with pytest.raises(FetchRefused, match="redirected more than 3 times"):
        fetch_page(api.url("/hop0"), allowed_hosts=["127.0.0.1"])


def test_a_slow_page_is_given_up_on_in_time(api):
    api.answer("/slow", PAGE, content_type=HTML, delay=3)
    started = time.monotonic()
    with pytest.raises(FetchRefused, match="did not answer within 1 s"):
        fetch_page(api.url("/slow"), allowed_hosts=["127.0.0.1"], timeout=1)
    assert time.monotonic() - started < 2


def test_an_oversized_page_is_read_only_up_to_the_limit(api):
    head = "<html><head><title>Acme giant page</title></head><body>"
    tail = '<meta name="description" content="the end of a huge page"></body></html>'
    api.answer("/huge", head + "<div>filler</div>" * 200_000 + tail, content_type=HTML)  # 3.4 MB
    page = fetch_page(api.url("/huge"), allowed_hosts=["127.0.0.1"])
    assert page.title == "Acme giant page" and page.text is None


@pytest.mark.parametrize(
    ("status", "content_type", "why"),
    [
        (200, "application/pdf", r"not a web page \(application/pdf\)"),
        (200, "application/json", "not a web page"),
        (404, HTML, "HTTP 404"),
        (500, HTML, "HTTP 500"),
    ],
)
def test_only_html_pages_that_exist_are_read(api, status, content_type, why):
    api.answer("/thing", PAGE, status=status, content_type=content_type)
    with pytest.raises(FetchRefused, match=why):
        fetch_page(api.url("/thing"), allowed_hosts=["127.0.0.1"])


@pytest.mark.parametrize(
    ("markup", "title", "text"),
    [
        (PAGE, "Acme review: slow support", "A customer says Acme support took a week to answer."),
        (
            '<meta property="og:title" content="OG title"><title>Tab title</title>'
            '<meta property="og:description" content="OG description">',
            "OG title",
            "OG description",
        ),
        (
            "<title>No description</title><script>var p = '<p>not this</p>';</script>"
            "<p>A paragraph that is long enough to say what the page is about.</p>",
            "No description",
            "A paragraph that is long enough to say what the page is about.",
        ),
        ("<title>  Spaced\n  out &amp; escaped </title>", "Spaced out & escaped", None),
        ("<title>" + "x" * 1000 + "</title>", "x" * 299 + "…", None),
        ("<p>unclosed <b>markup", None, None),
    ],
)
def test_a_pages_title_and_short_text(markup, title, text):
    page = summarize_html(markup)
    assert (page.title, page.text) == (title, text)


def test_a_page_in_another_charset_is_decoded(api):
    body = "<title>Café Acme à Paris</title>".encode("latin-1")
    api.answer("/latin", body, content_type="text/html; charset=iso-8859-1")
    assert fetch_page(api.url("/latin"), allowed_hosts=["127.0.0.1"]).title == "Café Acme à Paris"
    api.answer("/meta", b'<meta charset="iso-8859-1">' + body, content_type="text/html")
    assert fetch_page(api.url("/meta"), allowed_hosts=["127.0.0.1"]).title == "Café Acme à Paris"


def test_every_checked_address_is_tried_in_turn(api):
    """Nothing listens on 127.0.0.2: the next address the name resolved to is used, never a new lookup."""
    api.answer("/review", PAGE, content_type=HTML)
    port = api.url().split(":")[2].rstrip("/")
    resolver = resolves({"intranet.example": ["127.0.0.2", "127.0.0.1"]})
    page = fetch_page(f"http://intranet.example:{port}/review", allowed_hosts=["intranet.example"], resolver=resolver)
    assert page.title == "Acme review: slow support" and resolver.asked == ["intranet.example"]


@pytest.fixture
def tls_site(tmp_path):
    """An https site for intranet.example on 127.0.0.1, with a certificate of its own authority."""
    openssl = shutil.which("openssl") or pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", key, "-out", cert]
        + ["-subj", "/CN=intranet.example", "-addext", "subjectAltName=DNS:intranet.example"],
        check=True,
        capture_output=True,
    )
    seen: dict[str, str] = {}

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen["host"] = self.headers["Host"]
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", HTML)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, _: seen.update(sni=name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    serve_in_thread(server, "tls-site")
    yield server.server_address[1], ssl.create_default_context(cafile=cert), seen
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_checked_address_with_the_links_name_for_sni_and_the_certificate(tls_site):
    port, trusted, seen = tls_site
    resolver = resolves({"intranet.example": ["127.0.0.1"], "wiki.example": ["127.0.0.1"]})
    page = fetch_page(
        f"https://intranet.example:{port}/", allowed_hosts=["intranet.example"], resolver=resolver, verify=trusted
    )
    assert page.title == "Acme review: slow support"
    assert seen == {"sni": "intranet.example", "host": f"intranet.example:{port}"}

    with pytest.raises(FetchRefused, match="could not be reached"):  # the certificate names another host
        fetch_page(f"https://wiki.example:{port}/", allowed_hosts=["wiki.example"], resolver=resolver, verify=trusted)
