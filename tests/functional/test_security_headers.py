from __future__ import annotations

from tests.conftest import make_app


def test_pages_carry_a_strict_content_security_policy_and_deny_framing(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy and "base-uri 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_with_patient_data_are_not_stored_by_the_browser(signed_in):
    client = signed_in("scheduler")
    for url in ("/patients?q=a", "/patients/1", "/patients/1/edit"):
        assert client.get(url).headers["Cache-Control"] == "no-store"


def test_static_assets_may_be_cached(client):
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_templates_have_no_inline_script_and_assets_are_local(signed_in):
    html = signed_in("admin").get("/admin/offices/1").get_data(as_text=True)
    for tag in html.split("<script")[1:]:
        assert tag.lstrip().startswith("src=\"/"), tag[:80]
    assert "cdn" not in html.lower()
    assert " onclick=" not in html and " style=" not in html


def test_production_cookies_are_secure_and_http_is_redirected(database_url):
    app = make_app(database_url, BACKOFFICE_ENV="production", SESSION_COOKIE_SECURE=True,
                   FORCE_HTTPS=True, TESTING=False, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.get("/login").status_code == 302  # to https
    response = client.get("/login", base_url="https://backoffice.example")
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers
    # __Host-: the browser keeps it only if Secure, for this host and every path.
    session_cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("__Host-session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "Path=/" in session_cookie
    assert "Domain=" not in session_cookie and "SameSite=Lax" in session_cookie


def test_health_check_answers_without_signing_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
