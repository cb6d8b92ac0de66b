//! `GET /v2/certificates/{uuid}` for people: what a phone asks (`Accept: text/html`) after
//! scanning a certificate's QR code gets a page, in French with English below each line,
//! instead of the JSON API clients get. No script; its one style sheet is inline and
//! allowed by its hash in a strict Content-Security-Policy; every value is escaped.

use std::fmt::Write;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use sha2::{Digest, Sha256};

use super::Check;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;\
padding:0 1rem;color:#1e1e1e}h1{font-size:1.4rem}.ok{color:#18753c}.ko{color:#ce0500}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;\
text-align:left}small{color:#666}code{word-break:break-all}";

/// Whether the caller asks for a page rather than JSON: `text/html` before any JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match (accept.find("text/html"), accept.find("json")) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        _ => false,
    }
}

fn text(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_text(s)
}

/// The page of a genuine certificate.
pub fn genuine(check: &Check) -> Response<Bytes> {
    let m = &check.meta;
    let mut rows = String::new();
    let mut row = |fr: &str, en: &str, value: &str| {
        let _ = write!(
            rows,
            "<tr><th>{fr}<br><small lang=\"en\">{en}</small></th><td>{}</td></tr>",
            text(value)
        );
    };
    row("Opérateur", "Operator", &check.operator.name);
    row(
        "Période",
        "Period",
        &format!(
            "{} → {} ({})",
            m.start_at.as_deref().unwrap_or("—"),
            m.end_at,
            m.tz
        ),
    );
    row("Trajets", "Trips", &m.total.trips.to_string());
    row(
        "Trajets conducteur / passager",
        "As driver / as passenger",
        &format!("{} / {}", m.total.driver_trips, m.total.passenger_trips),
    );
    row(
        "Distance",
        "Distance",
        &format!("{:.1} km", m.total.distance as f64 / 1000.0),
    );
    row(
        "Gains conducteur",
        "Driver earned",
        &euros(m.total.driver_earned),
    );
    row(
        "Payé passager",
        "Passenger paid",
        &euros(m.total.passenger_paid),
    );
    row("Émis le", "Issued", &check.created_at);
    row("Identifiant", "Id", &check.uuid.to_string());
    let body = format!(
        "<h1 class=\"ok\">✔ Certificat authentique<br><small lang=\"en\">Genuine certificate</small></h1>\
         <p>Émis par {issuer}. <small lang=\"en\">Issued by the French carpool proof registry.</small></p>\
         <table>{rows}</table>\
         <p>Empreinte <small lang=\"en\">(fingerprint)</small> : <code>{fp}</code></p>\
         <p><small>Comparez cette empreinte à celle imprimée sur l'attestation. \
         <span lang=\"en\">Compare it with the one printed on the paper copy.</span></small></p>",
        issuer = text(check.issuer),
        fp = text(&check.fingerprint),
    );
    page(StatusCode::OK, "Certificat authentique", &body)
}

/// The page of an unknown certificate (404): not issued by the registry.
pub fn unknown() -> Response<Bytes> {
    page(
        StatusCode::NOT_FOUND,
        "Certificat inconnu",
        "<h1 class=\"ko\">✘ Certificat inconnu<br><small lang=\"en\">Unknown certificate</small></h1>\
         <p>Le registre n'a émis aucun certificat avec cet identifiant : ce document n'est pas \
         authentique. <small lang=\"en\">The registry issued no certificate with this id: \
         the document is not genuine.</small></p>",
    )
}

fn euros(cents: u64) -> String {
    format!("{},{:02} €", cents / 100, cents % 100)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response<Bytes> {
    let html = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
        text(title)
    );
    let mut response = Response::new(Bytes::from(html));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(csp) = HeaderValue::from_str(&csp()) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// No script, no source but the inline style sheet (by its hash).
fn csp() -> String {
    use base64::Engine;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_asked_by_browsers_not_by_api_clients() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
            wants_html(&h)
        };
        assert!(with(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!with("application/json"));
        assert!(!with("application/json, text/html"));
        assert!(!with("*/*"));
        assert!(!wants_html(&HeaderMap::new()));
    }

    #[test]
    fn amounts_are_in_euros() {
        assert_eq!(euros(12345), "123,45 €");
        assert_eq!(euros(5), "0,05 €");
    }
}
