//! Sign-in failures, CSRF refusals, session handling and the security headers.

use crate::browser::Browser;
use crate::helpers::start;

#[tokio::test]
async fn sign_in_failures_are_explained_and_sessions_are_server_side() {
    let platform = start(false).await;
    let browser = Browser::new(&platform.ui);
    let signed_out = browser.get("/incidents").await;
    assert_eq!(signed_out.status, 303);
    assert_eq!(signed_out.location.as_deref(), Some("/login?next=%2Fincidents"));

    let form = browser.get("/login").await;
    assert_eq!(form.status, 200);
    let csrf = form.csrf();
    let wrong =
        browser.post("/login", &[("csrf", &csrf), ("email", users::testing::ADMIN_EMAIL), ("password", "nope")]).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong email or password."), "{}", wrong.body);
    assert!(wrong.body.contains(users::testing::ADMIN_EMAIL), "the email is kept in the form");

    let stranger = Browser::new(&platform.ui);
    let forged = stranger.post("/login", &[("csrf", "made-up"), ("email", "a@b.c"), ("password", "x")]).await;
    assert_eq!(forged.status, 403, "no sign-in without the form's own token");

    let landed = browser.sign_in(users::testing::ADMIN_EMAIL, users::testing::ADMIN_PASSWORD).await;
    assert_eq!(landed.status, 200);
    assert!(landed.body.contains("<h1>Incidents</h1>"));
    assert!(browser.has_cookie("polystatus_session"));
    // An open redirect is refused: `next` stays on this site.
    let again = browser.get("/login?next=//evil.example").await;
    assert_eq!(again.location.as_deref(), Some("/incidents"));

    let page = browser.get("/incidents").await;
    let signout = browser.post("/logout", &[("csrf", &page.csrf())]).await;
    assert_eq!(signout.location.as_deref(), Some("/login?notice=Signed+out"));
    assert_eq!(browser.get("/incidents").await.status, 303, "the session is gone server-side");
}

#[tokio::test]
async fn every_form_needs_the_sessions_csrf_token_and_pages_carry_security_headers() {
    let platform = start(false).await;
    let browser = Browser::new(&platform.ui);
    let page = browser.sign_in(users::testing::ADMIN_EMAIL, users::testing::ADMIN_PASSWORD).await;
    let forged = browser.post("/incidents", &[("title", "forged"), ("sev", "2")]).await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("This form has expired"));
    let wrong = browser.post("/incidents", &[("csrf", "not-the-token"), ("title", "forged"), ("sev", "2")]).await;
    assert_eq!(wrong.status, 403);

    let csp = page.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.headers.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    assert_eq!(page.headers.get("x-frame-options").and_then(|v| v.to_str().ok()), Some("DENY"));
    assert!(page.headers.get("referrer-policy").is_some());
    assert!(!page.body.contains("<script>"), "no inline script");
    let login = Browser::new(&platform.ui).get("/login").await;
    let cookie = login.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let missing = browser.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
}
