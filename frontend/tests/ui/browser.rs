//! A cookie-keeping client that sends forms like a browser and leaves redirects to the test.

use std::collections::HashMap;
use std::sync::Mutex;

pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Mutex<HashMap<String, String>>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        self.body[at..].split('"').next().unwrap_or_default().to_string()
    }
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { client, base: base.to_string(), cookies: Mutex::new(HashMap::new()) }
    }

    fn cookie_header(&self) -> String {
        let cookies = self.cookies.lock().expect("cookies");
        cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let response = request.header("cookie", self.cookie_header()).send().await.expect("request sent");
        {
            let mut cookies = self.cookies.lock().expect("cookies");
            for set in response.headers().get_all("set-cookie") {
                let set = set.to_str().unwrap_or_default();
                let pair = set.split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() || set.contains("Max-Age=0") {
                        cookies.remove(name);
                    } else {
                        cookies.insert(name.to_string(), value.to_string());
                    }
                }
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|l| l.to_str().ok()).map(String::from);
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Page { status, location, headers, body }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.client.get(format!("{}{path}", self.base))).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// Follows a redirect answer.
    pub async fn follow(&self, page: &Page) -> Page {
        let location =
            page.location.as_deref().unwrap_or_else(|| panic!("a redirect, got {}: {}", page.status, page.body));
        self.get(location).await
    }

    /// The session cookie's value.
    pub fn session_cookie(&self) -> String {
        self.cookies.lock().expect("cookies").get("polystatus_session").cloned().unwrap_or_default()
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.lock().expect("cookies").contains_key(name)
    }

    /// Signs in through the form; the page it lands on.
    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let csrf = form.csrf();
        let signed = self
            .post("/login", &[("csrf", &csrf), ("email", email), ("password", password), ("next", "/incidents")])
            .await;
        assert_eq!(signed.status, 303, "{}", signed.body);
        self.follow(&signed).await
    }
}
