//! A run's lines serialised once: the digest, the campaign's line chunks and the operator
//! index are all made of the same bytes (a big campaign has hundreds of thousands of lines).

use sha2::{Digest, Sha256};

use super::compute::{Line, Totals};

/// Each line as compact JSON.
pub fn lines(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .map(|l| serde_json::to_string(l).unwrap_or_default())
        .collect()
}

/// A JSON array of encoded values: what `serde_json::to_string` gives for the slice.
pub fn array(encoded: &[impl AsRef<str>]) -> String {
    let mut out =
        String::with_capacity(2 + encoded.iter().map(|e| e.as_ref().len() + 1).sum::<usize>());
    out.push('[');
    for (i, e) in encoded.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(e.as_ref());
    }
    out.push(']');
    out
}

/// SHA-256 (hex) of [`super::results_bytes`], hashed from the encoded lines without
/// building the whole document.
pub fn digest(totals: &Totals, encoded: &[String]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"[");
    hash.update(serde_json::to_vec(totals).unwrap_or_default());
    hash.update(b",[");
    for (i, e) in encoded.iter().enumerate() {
        if i > 0 {
            hash.update(b",");
        }
        hash.update(e.as_bytes());
    }
    hash.update(b"]]");
    hex::encode(hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::monthly::compute::LineStatus;
    use crate::domain::campaign::PaidRole;

    #[test]
    fn the_same_bytes_as_serialising_the_whole() {
        let line = |j: &str, reason: Option<&str>| Line {
            journey_id: j.into(),
            operator_id: 4,
            operator_journey_id: Some("t\"1".into()),
            role: PaidRole::Passenger,
            start: "2025-03-01T08:00:00.000Z".into(),
            local_date: "2025-03-01".into(),
            status: LineStatus::Capped,
            amount: 0,
            computed: 150,
            reason: reason.map(str::to_owned),
            paid_by: None,
            corrects: None,
        };
        let mut totals = Totals::default();
        for lines in [
            vec![],
            vec![line("a", None)],
            vec![line("a", Some("x")), line("é,b", None)],
        ] {
            lines.iter().for_each(|l| totals.count(l));
            let encoded = super::lines(&lines);
            assert_eq!(array(&encoded), serde_json::to_string(&lines).unwrap());
            let whole = crate::campaigns::monthly::results_bytes(&totals, &lines);
            assert_eq!(
                digest(&totals, &encoded),
                hex::encode(Sha256::digest(&whole))
            );
        }
    }
}
