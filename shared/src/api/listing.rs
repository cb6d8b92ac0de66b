//! What the paged listings share (a campaign's incentives, an operator's statement, an
//! operator's journeys): the query string, the `limit` parameter and the CSV answer.

use bytes::Bytes;
use http::{header, HeaderValue, Response};

use super::error::{ApiError, Detail};
use super::Ctx;

/// The query string as decoded `(name, value)` pairs (`+` is a space); 400 when it is not
/// valid percent-encoded UTF-8.
pub(super) fn query_pairs(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| super::router::percent_decode(&s.replace('+', " "));
            match (decode(k), decode(v)) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(ApiError::invalid_field(
                    "",
                    "the query string is not valid percent-encoded UTF-8",
                )),
            }
        })
        .collect()
}

/// The first value of parameter `name`.
pub(super) fn value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Lines per page of a listing (`limit`): when not given, and at most.
#[derive(Clone, Copy, Debug)]
pub struct PageSize {
    pub default: usize,
    pub max: usize,
}

impl PageSize {
    /// The monthly listings: a campaign's incentives and an operator's statement.
    pub const MONTHLY: PageSize = PageSize {
        default: 1000,
        max: 5000,
    };

    /// The `limit` parameter: the default when absent; out of 1..=max, an error detail (and
    /// the default, so the other parameters are checked).
    pub(super) fn read(self, query: &[(String, String)], errors: &mut Vec<Detail>) -> usize {
        match value(query, "limit") {
            None => self.default,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=self.max).contains(&n) => n,
                _ => {
                    errors.push(Detail::new("limit", format!("must be 1 to {}", self.max)));
                    self.default
                }
            },
        }
    }
}

/// Whether the caller asked for CSV (`Accept: text/csv`) rather than JSON.
pub(super) fn wants_csv(ctx: &Ctx) -> bool {
    ctx.headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"))
}

/// A CSV answer (RFC 4180: CRLF line ends, fields quoted when needed): `columns`, then one
/// line per row. What is not a line (totals, the next cursor) goes in `headers`.
pub(super) fn csv_response<R, F>(
    columns: &[&str],
    rows: impl IntoIterator<Item = R>,
    headers: &[(&'static str, String)],
) -> Result<Response<Bytes>, ApiError>
where
    R: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let written = writer
        .write_record(columns)
        .and_then(|()| rows.into_iter().try_for_each(|r| writer.write_record(r)));
    // Writing to memory does not fail; should it, the caller gets a 500.
    let body = match written {
        Ok(()) => writer.into_inner().map_err(|_| ApiError::internal())?,
        Err(_) => return Err(ApiError::internal()),
    };
    let mut response = Response::new(Bytes::from(body));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    for (name, v) in headers {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(*name, v);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded() {
        let q = query_pairs("month=2025-03&cursor=a%2Bb&x=1+2&empty").unwrap();
        assert_eq!(value(&q, "month"), Some("2025-03"));
        assert_eq!(value(&q, "cursor"), Some("a+b"));
        assert_eq!(value(&q, "x"), Some("1 2"));
        assert_eq!(value(&q, "empty"), Some(""));
        assert!(query_pairs("a=%zz").is_err());
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        let rows = [["j-1", "a,b", "say \"hi\"", "", "l1\nl2"]];
        let response =
            csv_response(&["a", "b", "c", "d", "e"], rows, &[("x-n", "1".into())]).unwrap();
        assert_eq!(
            response.body().as_ref(),
            b"a,b,c,d,e\r\nj-1,\"a,b\",\"say \"\"hi\"\"\",,\"l1\nl2\"\r\n"
        );
        assert_eq!(response.headers()["x-n"], "1");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/csv; charset=utf-8"
        );
    }

    #[test]
    fn limits_are_checked() {
        let mut errors = Vec::new();
        let q = query_pairs("limit=7").unwrap();
        assert_eq!(PageSize::MONTHLY.read(&q, &mut errors), 7);
        let q = query_pairs("limit=5001").unwrap();
        assert_eq!(PageSize::MONTHLY.read(&q, &mut errors), 1000);
        assert_eq!(errors.len(), 1);
    }
}
