"""dashboard_server: the request filter that keeps a browser on 127.0.0.1 (the server itself: tests/ui/test_browser.py)."""

from dashboard_server import keep_local


class Route:
    def __init__(self, url: str):
        self.request = type("Request", (), {"url": url})()
        self.outcome = None

    def continue_(self):
        self.outcome = "continued"

    def abort(self):
        self.outcome = "aborted"


class Page:
    def route(self, pattern, handler):
        self.pattern, self.handler = pattern, handler


def test_only_local_requests_go_through():
    page, blocked = Page(), []
    keep_local(page, blocked)
    assert page.pattern == "**/*"
    urls = ["http://127.0.0.1:8501/x", "ws://127.0.0.1:8501/s", "data:image/png;base64,", "https://fonts.example/f"]
    routes = [Route(u) for u in urls]
    for r in routes:
        page.handler(r)
    assert [r.outcome for r in routes] == ["continued"] * 3 + ["aborted"]
    assert blocked == ["https://fonts.example/f"]
    keep_local(page)  # without a list, outside requests are still aborted
    r = Route("http://127.0.0.2/")
    page.handler(r)
    assert r.outcome == "aborted"
