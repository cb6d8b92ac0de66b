//! The one template of the printable certificate: an A4 page as SVG (units: PDF points),
//! French text, set in the DejaVu Sans font shipped in `shared/assets/fonts`.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::certificate::{Certificate, Meta, Month, Totals};

/// A4 in points.
pub const WIDTH: f64 = 595.28;
pub const HEIGHT: f64 = 841.89;
/// Font family of the shipped font (the only one the renderer knows).
pub const FONT: &str = "DejaVu Sans";

/// Above this many months the table shows years (one page whatever the period); the
/// public check keeps the monthly detail.
const MAX_MONTH_ROWS: usize = 36;
const ROW: f64 = 10.0;
const MARGIN: f64 = 50.0;

/// `&`, `<`, `>`, quotes: text from operators (their name) is escaped, never interpreted.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, an ellipsis marking the cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// `1234567` → `1 234 567` (French grouping, plain spaces).
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Cents → `1 234,56 €`.
pub fn euros(cents: u64) -> String {
    format!("{},{:02} €", grouped(cents / 100), cents % 100)
}

/// Metres → kilometres with one decimal: `1 234,5`.
pub fn kilometres(metres: u64) -> String {
    let tenths = (metres + 50) / 100;
    format!("{},{}", grouped(tenths / 10), tenths % 10)
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `2025-03` → `mars 2025`.
fn month_label(month: &str) -> String {
    let name = month
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)));
    match (name, month.get(..4)) {
        (Some(name), Some(year)) => format!("{name} {year}"),
        _ => month.to_owned(),
    }
}

fn date(instant: &str, tz: Tz) -> String {
    DateTime::parse_from_rfc3339(instant)
        .map(|t| t.with_timezone(&tz).format("%d/%m/%Y").to_string())
        .unwrap_or_else(|_| instant.to_owned())
}

/// Table rows: months, or years when there are too many months for one page.
fn rows(months: &[Month]) -> Vec<(String, Totals)> {
    if months.len() <= MAX_MONTH_ROWS {
        return months
            .iter()
            .map(|m| (month_label(&m.month), m.totals.clone()))
            .collect();
    }
    let mut years: Vec<(String, Totals)> = Vec::new();
    for m in months {
        let year = m.month.get(..4).unwrap_or(&m.month).to_owned();
        match years.last_mut() {
            Some((y, totals)) if *y == year => totals.add(&m.totals),
            _ => years.push((year, m.totals.clone())),
        }
    }
    years
}

struct Page {
    svg: String,
}

impl Page {
    fn text(&mut self, x: f64, y: f64, size: f64, style: &str, content: &str) {
        let _ = write!(
            self.svg,
            r#"<text x="{x:.2}" y="{y:.2}" font-size="{size}" {style}>{}</text>"#,
            escape(content)
        );
    }

    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, width: f64) {
        let _ = write!(
            self.svg,
            r##"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="#1f2d3d" stroke-width="{width}"/>"##
        );
    }
}

/// The QR code as one path of dark modules, `size` points wide at (`x`, `y`), with its
/// quiet zone inside `size`.
fn qr(page: &mut Page, url: &str, x: f64, y: f64, size: f64) {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M) else {
        return;
    };
    let n = code.width();
    let quiet = 4;
    let module = size / (n + 2 * quiet) as f64;
    let mut d = String::new();
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == qrcode::Color::Dark {
            let (cx, cy) = ((i % n + quiet) as f64, (i / n + quiet) as f64);
            let _ = write!(d, "M{cx} {cy}h1v1h-1z");
        }
    }
    let _ = write!(
        page.svg,
        r##"<rect x="{x:.2}" y="{y:.2}" width="{size:.2}" height="{size:.2}" fill="#ffffff"/><path transform="translate({x:.2} {y:.2}) scale({module:.4})" fill="#000000" d="{d}"/>"##
    );
}

const BOLD: &str = r#"font-weight="bold""#;
const GREY: &str = r##"fill="#5a6675""##;
const RIGHT: &str = r#"text-anchor="end""#;

/// The whole page. `check_url` is the public check printed as a QR code and as text.
pub fn svg(cert: &Certificate, check_url: &str, fingerprint: &str) -> String {
    let tz: Tz = cert.meta.tz.parse().unwrap_or(chrono_tz::Europe::Paris);
    let mut page = Page {
        svg: format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{FONT}" fill="#1f2d3d"><rect width="100%" height="100%" fill="#ffffff"/>"##
        ),
    };
    let y = heading(&mut page, cert, tz);
    table(&mut page, &cert.meta, y);
    let block = 640.0;
    identification(&mut page, cert, check_url, fingerprint, tz, block);
    signatures(&mut page, block + 130.0);
    page.svg.push_str("</svg>");
    page.svg
}

/// Title, operator, period and what is counted; the `y` the table starts from.
fn heading(page: &mut Page, cert: &Certificate, tz: Tz) -> f64 {
    let meta = &cert.meta;
    page.text(
        MARGIN,
        60.0,
        10.0,
        GREY,
        "Registre de preuve de covoiturage",
    );
    page.text(MARGIN, 92.0, 22.0, BOLD, "Attestation de covoiturage");
    page.line(MARGIN, 104.0, WIDTH - MARGIN, 104.0, 1.5);

    let operator = clip(&cert.operator.name, 60);
    page.text(
        MARGIN,
        128.0,
        10.5,
        "",
        &format!("Opérateur : {operator} (n° {})", cert.operator.id),
    );
    let from = meta
        .start_at
        .as_deref()
        .map(|s| date(s, tz))
        .unwrap_or_else(|| "—".into());
    page.text(
        MARGIN,
        145.0,
        10.5,
        "",
        &format!(
            "Période : du {from} au {} (fuseau {})",
            date(&meta.end_at, tz),
            meta.tz
        ),
    );
    let mut y = 162.0;
    if !meta.positions.is_empty() {
        page.text(
            MARGIN,
            y,
            9.0,
            GREY,
            &format!(
                "Trajets partant ou arrivant à moins de 1 km de {} lieu(x) indiqué(s)",
                meta.positions.len()
            ),
        );
        y += 14.0;
    }
    page.text(
        MARGIN,
        y,
        9.0,
        GREY,
        "Trajets validés par le registre (hors trajets annulés, en anomalie ou suspectés de fraude).",
    );
    y += 12.0;
    page.text(
        MARGIN,
        y,
        9.0,
        GREY,
        "Montants déclarés par l'opérateur (perçus par le conducteur, payés par le passager) ; distances en km.",
    );
    y
}

/// The months' totals, then the grand total.
fn table(page: &mut Page, meta: &Meta, mut y: f64) {
    let columns: [(f64, [&str; 2], &str); 6] = [
        (MARGIN, ["", "Période"], ""),
        (230.0, ["", "Trajets"], RIGHT),
        (300.0, ["dont", "conducteur"], RIGHT),
        (375.0, ["Distance", "(km)"], RIGHT),
        (460.0, ["Gains", "conducteur"], RIGHT),
        (WIDTH - MARGIN, ["Frais", "passager"], RIGHT),
    ];
    y += 22.0;
    for (x, [first, second], anchor) in columns {
        page.text(x, y, 8.5, &format!("{BOLD} {anchor}"), first);
        page.text(x, y + 10.0, 8.5, &format!("{BOLD} {anchor}"), second);
    }
    y += 10.0;
    page.line(MARGIN, y + 4.0, WIDTH - MARGIN, y + 4.0, 0.8);
    y += 4.0;
    let cells = |label: String, t: &Totals| {
        [
            label,
            t.trips.to_string(),
            t.driver_trips.to_string(),
            kilometres(t.distance),
            euros(t.driver_earned),
            euros(t.passenger_paid),
        ]
    };
    let rows = rows(&meta.months);
    if rows.is_empty() {
        y += ROW;
        page.text(
            MARGIN,
            y,
            8.5,
            "",
            "Aucun trajet de covoiturage sur cette période.",
        );
    }
    for (label, totals) in &rows {
        y += ROW;
        for ((x, _, anchor), cell) in columns.iter().zip(cells(label.clone(), totals)) {
            page.text(*x, y, 8.5, anchor, &cell);
        }
    }
    page.line(MARGIN, y + 4.0, WIDTH - MARGIN, y + 4.0, 0.8);
    y += 4.0 + ROW + 2.0;
    for ((x, _, anchor), cell) in columns.iter().zip(cells("Total".into(), &meta.total)) {
        page.text(*x, y, 9.0, &format!("{BOLD} {anchor}"), &cell);
    }
}

/// Issue, identification and check: a fixed block at the bottom of the page.
fn identification(
    page: &mut Page,
    cert: &Certificate,
    check_url: &str,
    fingerprint: &str,
    tz: Tz,
    block: f64,
) {
    let created = DateTime::parse_from_rfc3339(&cert.created_at)
        .map(|t| t.with_timezone(&Utc).with_timezone(&tz))
        .map(|t| t.format("%d/%m/%Y à %H:%M").to_string())
        .unwrap_or_else(|_| cert.created_at.clone());
    page.line(MARGIN, block - 16.0, WIDTH - MARGIN, block - 16.0, 0.8);
    page.text(MARGIN, block, 9.5, "", &format!("Émise le {created}"));
    page.text(
        MARGIN,
        block + 15.0,
        9.5,
        "",
        "Identifiant de l'attestation :",
    );
    page.text(MARGIN, block + 28.0, 9.5, BOLD, &cert.uuid.to_string());
    page.text(MARGIN, block + 46.0, 8.0, GREY, "Empreinte SHA-256 :");
    page.text(
        MARGIN,
        block + 57.0,
        7.0,
        GREY,
        &fingerprint[..32.min(fingerprint.len())],
    );
    page.text(
        MARGIN,
        block + 66.0,
        7.0,
        GREY,
        fingerprint.get(32..).unwrap_or(""),
    );
    page.text(
        MARGIN,
        block + 84.0,
        8.0,
        "",
        "Vérifiez cette attestation en ligne (QR code ci-contre) :",
    );
    page.text(MARGIN, block + 95.0, 7.0, GREY, &clip(check_url, 90));
    qr(page, check_url, WIDTH - MARGIN - 120.0, block - 8.0, 120.0);
}

/// The signature lines.
fn signatures(page: &mut Page, sign: f64) {
    page.text(
        MARGIN,
        sign,
        8.5,
        "",
        "Pour le Registre de preuve de covoiturage : signé électroniquement (empreinte ci-dessus).",
    );
    page.text(MARGIN, sign + 26.0, 8.5, "", "Signature du titulaire :");
    page.line(MARGIN + 105.0, sign + 27.0, 330.0, sign + 27.0, 0.6);
    page.text(350.0, sign + 26.0, 8.5, "", "Date :");
    page.line(380.0, sign + 27.0, WIDTH - MARGIN, sign + 27.0, 0.6);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_french_way() {
        assert_eq!(euros(0), "0,00 €");
        assert_eq!(euros(123_456_789), "1 234 567,89 €");
        assert_eq!(kilometres(21_550), "21,6");
        assert_eq!(kilometres(1_234_500), "1 234,5");
        assert_eq!(month_label("2025-08"), "août 2025");
        assert_eq!(
            escape("A&B <i>\"x\"</i>\u{1}"),
            "A&amp;B &lt;i&gt;&quot;x&quot;&lt;/i&gt; "
        );
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
