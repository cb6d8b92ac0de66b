//! Request bodies decoded into JSON values, refusing an object with the same key twice.
//!
//! serde_json keeps the last of two equal keys; a registry that stores what it was sent
//! must not, since two readers of the stored document could disagree on what was
//! declared. [`from_slice`] decodes in one pass, as `serde_json::from_slice::<Value>`
//! does, and costs nothing more on a body without duplicates: the path of a repeated key
//! is only built while the error unwinds.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::error::Detail;

/// Why a body is not an acceptable JSON document.
#[derive(Debug)]
pub enum JsonError {
    /// Not JSON (syntax, trailing characters, nesting deeper than 128 levels).
    Syntax(serde_json::Error),
    /// An object has the same key twice; the RFC 6901 pointer of the repeated key.
    DuplicateKey(String),
}

impl JsonError {
    /// The violation as a detail: a repeated key at its pointer, a syntax error at the
    /// root with the reason `syntax` gives it.
    pub fn into_detail(self, syntax: impl FnOnce(&serde_json::Error) -> String) -> Detail {
        match self {
            JsonError::Syntax(e) => Detail::new("", syntax(&e)),
            JsonError::DuplicateKey(pointer) => Detail::new(pointer, "duplicate key"),
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Syntax(e) => write!(f, "not valid JSON: {e}"),
            JsonError::DuplicateKey(p) => write!(f, "duplicate key at {p:?}"),
        }
    }
}

/// The bytes as one JSON value (trailing whitespace allowed), refusing duplicate keys.
pub fn from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    // The reversed path of a repeated key, filled while its error unwinds; `None` for any
    // other error.
    let trail = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = ValueSeed { trail: &trail }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match value {
        Ok(value) => Ok(value),
        Err(e) => match trail.into_inner() {
            Some(segments) => Err(JsonError::DuplicateKey(pointer(segments))),
            None => Err(JsonError::Syntax(e)),
        },
    }
}

/// Reversed segments → `/a/b/0/key` (`~` as `~0`, `/` as `~1`).
fn pointer(segments: Vec<String>) -> String {
    let mut out = String::new();
    for segment in segments.iter().rev() {
        out.push('/');
        for c in segment.chars() {
            match c {
                '~' => out.push_str("~0"),
                '/' => out.push_str("~1"),
                c => out.push(c),
            }
        }
    }
    out
}

type Trail = RefCell<Option<Vec<String>>>;

#[derive(Clone, Copy)]
struct ValueSeed<'t> {
    trail: &'t Trail,
}

impl ValueSeed<'_> {
    /// On the way out of a failed child: its segment, when the failure is a repeated key.
    fn unwind(&self, segment: impl FnOnce() -> String) {
        if let Some(segments) = self.trail.borrow_mut().as_mut() {
            segments.push(segment());
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            match seq.next_element_seed(self) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    let index = items.len();
                    self.unwind(|| index.to_string());
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            match map.entry(key) {
                serde_json::map::Entry::Occupied(entry) => {
                    *self.trail.borrow_mut() = Some(vec![entry.key().clone()]);
                    return Err(de::Error::custom("duplicate key"));
                }
                serde_json::map::Entry::Vacant(entry) => match access.next_value_seed(self) {
                    Ok(value) => {
                        entry.insert(value);
                    }
                    Err(e) => {
                        self.unwind(|| entry.key().clone());
                        return Err(e);
                    }
                },
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn duplicate(text: &str) -> Option<String> {
        match from_slice(text.as_bytes()) {
            Err(JsonError::DuplicateKey(p)) => Some(p),
            _ => None,
        }
    }

    #[test]
    fn a_repeated_key_is_refused_at_its_pointer() {
        assert_eq!(duplicate(r#"{"a":1,"a":2}"#).as_deref(), Some("/a"));
        assert_eq!(duplicate(r#"{"a":1,"a":1}"#).as_deref(), Some("/a"));
        assert_eq!(
            duplicate(r#"{"a":{"b":[1,{"c":1,"k":2,"k":3}]}}"#).as_deref(),
            Some("/a/b/1/k")
        );
        assert_eq!(
            duplicate(r#"{"x/y":{"m~n":0,"m~n":1}}"#).as_deref(),
            Some("/x~1y/m~0n")
        );
        // Equal after unescaping is equal.
        assert_eq!(duplicate(r#"{"a":1,"\u0061":2}"#).as_deref(), Some("/a"));
        assert_eq!(duplicate(r#"[{}, {"":1,"":2}]"#).as_deref(), Some("/1/"));
    }

    #[test]
    fn other_documents_decode_as_serde_json_does() {
        for text in [
            r#"{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}"#,
            r#"[1, -2, 3.5, 1e400, 18446744073709551615, -9223372036854775808, null, true, "é"]"#,
            "  {}  \n",
            r#""x""#,
            r#"{"A":1,"a":2}"#,
        ] {
            let expected = serde_json::from_slice::<Value>(text.as_bytes()).ok();
            assert_eq!(from_slice(text.as_bytes()).ok(), expected, "{text}");
        }
        assert_eq!(
            from_slice(br#"{"k":[1,{"k":2}]}"#).unwrap(),
            json!({"k": [1, {"k": 2}]})
        );
        for text in ["", "{", r#"{"a":1,}"#, "{} {}", "[1,]"] {
            assert!(
                matches!(from_slice(text.as_bytes()), Err(JsonError::Syntax(_))),
                "{text}"
            );
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(matches!(
            from_slice(deep.as_bytes()),
            Err(JsonError::Syntax(_))
        ));
    }
}
