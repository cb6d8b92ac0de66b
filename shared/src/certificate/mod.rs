//! Rendering of certificates (feature `render`): one SVG template, drawn to PNG by resvg
//! and converted to PDF by svg2pdf (text kept as text, the font embedded and subset), so
//! both formats show exactly the same page. The font ships with the code: the output does
//! not depend on the fonts of the machine.

pub mod template;

use std::sync::{Arc, OnceLock};

use resvg::usvg::{self, fontdb};

use crate::domain::certificate::{Certificate, Format};

/// DejaVu Sans (Bitstream Vera licence, see shared/assets/fonts/LICENSE-DejaVu.txt).
const FONTS: [&[u8]; 2] = [
    include_bytes!("../../assets/fonts/DejaVuSans.ttf"),
    include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf"),
];

/// PNG resolution: 150 dpi (1240 × 1754 pixels for A4), enough to print and to scan the QR.
pub const PNG_DPI: f32 = 150.0;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template is not valid SVG: {0}")]
    Svg(String),
    #[error("PDF conversion failed: {0}")]
    Pdf(String),
    #[error("PNG rendering failed: {0}")]
    Png(String),
}

fn fonts() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        for font in FONTS {
            db.load_font_data(font.to_vec());
        }
        db.set_sans_serif_family(template::FONT);
        Arc::new(db)
    })
    .clone()
}

/// The page as a parsed SVG tree (text shaped with the shipped font).
fn tree(cert: &Certificate, check_url: &str) -> Result<usvg::Tree, RenderError> {
    let svg = template::svg(cert, check_url, &cert.fingerprint());
    let options = usvg::Options {
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(&svg, &options).map_err(|e| RenderError::Svg(e.to_string()))
}

pub fn render(cert: &Certificate, check_url: &str, format: Format) -> Result<Vec<u8>, RenderError> {
    let tree = tree(cert, check_url)?;
    match format {
        Format::Pdf => svg2pdf::to_pdf(
            &tree,
            svg2pdf::ConversionOptions::default(),
            svg2pdf::PageOptions::default(),
        )
        .map_err(|e| RenderError::Pdf(e.to_string())),
        Format::Png => {
            let scale = PNG_DPI / 72.0;
            let size = tree
                .size()
                .to_int_size()
                .scale_by(scale)
                .ok_or_else(|| RenderError::Png("page size out of range".into()))?;
            let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height())
                .ok_or_else(|| RenderError::Png("cannot allocate the image".into()))?;
            pixmap.fill(resvg::tiny_skia::Color::WHITE);
            resvg::render(
                &tree,
                resvg::tiny_skia::Transform::from_scale(scale, scale),
                &mut pixmap.as_mut(),
            );
            pixmap
                .encode_png()
                .map_err(|e| RenderError::Png(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::certificate::{Issuer, Meta, Month, Totals};
    use crate::domain::operator::OperatorId;

    fn sample(months: usize) -> Certificate {
        let totals = Totals {
            trips: 3,
            distance: 45_300,
            driver_trips: 1,
            driver_earned: 1_250,
            passenger_trips: 2,
            passenger_paid: 600,
        };
        let months: Vec<Month> = (0..months)
            .map(|i| Month {
                month: format!("{}-{:02}", 2023 + i / 12, i % 12 + 1),
                totals: totals.clone(),
            })
            .collect();
        let mut total = Totals::default();
        for m in &months {
            total.add(&m.totals);
        }
        Certificate {
            uuid: uuid::Uuid::new_v4(),
            created_at: "2026-03-01T10:00:00.000Z".into(),
            operator: Issuer {
                id: OperatorId(7),
                name: "Covoit & <Cie>".into(),
            },
            meta: Meta {
                tz: "Europe/Paris".into(),
                start_at: Some("2023-01-01T00:00:00.000Z".into()),
                end_at: "2026-02-20T00:00:00.000Z".into(),
                positions: Vec::new(),
                months,
                total,
            },
        }
    }

    /// Decodes the PNG and reads its QR code.
    fn qr_of(png_bytes: &[u8]) -> ((u32, u32), Vec<String>) {
        let decoder = png::Decoder::new(png_bytes);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgba);
        let (w, h) = (info.width as usize, info.height as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            let p = (y * w + x) * 4;
            ((u16::from(buf[p]) + u16::from(buf[p + 1]) + u16::from(buf[p + 2])) / 3) as u8
        });
        let texts = image
            .detect_grids()
            .into_iter()
            .map(|g| g.decode().unwrap().1)
            .collect();
        ((info.width, info.height), texts)
    }

    #[test]
    #[ignore = "writes /tmp/certificate-sample.png and .pdf to look at"]
    fn write_samples() {
        let mut cert = sample(36);
        cert.meta
            .positions
            .push(crate::domain::certificate::Position {
                lat: 48.0,
                lon: 2.0,
            });
        let url = cert.check_url("https://registre.example.org");
        std::fs::write(
            "/tmp/certificate-sample.png",
            render(&cert, &url, Format::Png).unwrap(),
        )
        .unwrap();
        std::fs::write(
            "/tmp/certificate-sample.pdf",
            render(&cert, &url, Format::Pdf).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn png_is_an_a4_page_at_150_dpi_whose_qr_code_reads_the_check_url() {
        for months in [0, 3, 40] {
            let cert = sample(months);
            let url = cert.check_url("https://registre.example.org/");
            let png = render(&cert, &url, Format::Png).unwrap();
            let (size, texts) = qr_of(&png);
            assert_eq!(size, (1240, 1754));
            assert_eq!(texts, vec![url]);
        }
    }

    #[test]
    fn pdf_is_one_page_with_the_font_embedded() {
        let cert = sample(36);
        let pdf = render(&cert, &cert.check_url("http://x"), Format::Pdf).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // Page count, text and size are checked with poppler in tests/certificates.rs.
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("DejaVuSans"));
        assert!(text.contains("/MediaBox [0 0 595.28 841.89]"));
    }
}
