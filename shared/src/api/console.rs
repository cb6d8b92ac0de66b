//! The web console's files (`shared/assets/console/`), embedded in the binary: `/` is the
//! page, `/console/app.js` and `/console/style.css` what it loads. Plain files, no build
//! step; the page talks to the public API only. Served by `registry serve`.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};

/// No inline script or style, nothing from another origin; API calls to this origin only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

const FILES: &[(&str, &str, &str)] = &[
    (
        "/",
        "text/html; charset=utf-8",
        include_str!("../../assets/console/index.html"),
    ),
    (
        "/console/app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/console/app.js"),
    ),
    (
        "/console/style.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/console/style.css"),
    ),
];

/// The console file at `path`, if there is one.
pub fn asset(path: &str) -> Option<Response<Bytes>> {
    let (_, content_type, body) = FILES.iter().find(|(p, _, _)| *p == path)?;
    let mut response = Response::new(Bytes::from_static(body.as_bytes()));
    *response.status_mut() = StatusCode::OK;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_files_and_no_inline_script() {
        let page = asset("/").unwrap();
        let html = std::str::from_utf8(page.body()).unwrap();
        assert!(html.contains("src=\"/console/app.js\""));
        assert!(!html.contains("<script>") && !html.contains("style=") && !html.contains("http"));
        assert!(asset("/console/app.js").is_some());
        assert!(asset("/console/nothing.js").is_none());
        let js = std::str::from_utf8(FILES[1].2.as_bytes()).unwrap();
        assert!(!js.contains("innerHTML") && !js.contains("eval("));
        assert!(!js.contains("localStorage") && !js.contains("document.cookie"));
    }
}
