//! What is wrong with an input: each violation with the JSON pointer of its field.

use serde::Serialize;

/// One violation of a request.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Detail {
    /// JSON pointer of the offending field (`""` for the whole body).
    pub path: String,
    pub reason: String,
}

impl Detail {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Detail {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// A deserialisation error as a detail pointing at the offending field.
pub fn serde_detail(e: serde_path_to_error::Error<serde_json::Error>) -> Detail {
    let mut pointer = json_pointer(&e.path().to_string());
    let reason = e.into_inner().to_string();
    // serde reports a missing field at its parent: point at the field itself.
    if let Some(field) = reason
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        pointer = format!("{pointer}/{field}");
    }
    Detail::new(pointer, reason)
}

/// `a.b[2].c` (serde_path_to_error) → `/a/b/2/c`; `.` (the root) → ``.
pub fn json_pointer(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    let mut out = String::new();
    for part in path.split('.') {
        let mut rest = part;
        while let Some(open) = rest.find('[') {
            let (name, tail) = rest.split_at(open);
            if !name.is_empty() {
                out.push('/');
                out.push_str(&name.replace('~', "~0").replace('/', "~1"));
            }
            let close = tail.find(']').unwrap_or(tail.len());
            out.push('/');
            out.push_str(tail.get(1..close).unwrap_or_default());
            rest = tail.get(close + 1..).unwrap_or_default();
        }
        if !rest.is_empty() {
            out.push('/');
            out.push_str(&rest.replace('~', "~0").replace('/', "~1"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::json_pointer;

    #[test]
    fn paths_become_json_pointers() {
        assert_eq!(json_pointer("."), "");
        assert_eq!(json_pointer("name"), "/name");
        assert_eq!(json_pointer("permissions[2]"), "/permissions/2");
        assert_eq!(json_pointer("a.b[0].c"), "/a/b/0/c");
    }
}
