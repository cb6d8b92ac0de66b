//! The parser's machinery: one walk over the `Value`, every reader reports its own
//! violations and returns `None` when it did.

use chrono::{DateTime, Utc};
use serde_json::{Map, Number, Value};

use super::*;
use crate::domain::error::Detail;
use crate::domain::phone::{Phone, PhoneTrunc};

#[derive(Default)]
pub(super) struct Parser {
    pub(super) details: Vec<Detail>,
}

/// An object whose keys were checked against the allowed ones.
pub(super) struct Object<'v> {
    pub(super) map: &'v Map<String, Value>,
    pub(super) path: String,
}

/// A member of an object: its value if present, and where it is.
pub(super) struct Field<'v, 'o> {
    pub(super) value: Option<&'v Value>,
    pub(super) at: At<'o>,
}

/// Where a value is: its parent's JSON pointer and its key or index. The pointer itself is
/// only written out for an error or an object (most values are valid leaves: this keeps
/// validation free of one allocation per field).
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    parent: &'a str,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
pub(super) enum Step<'a> {
    /// The parent itself.
    Here,
    Key(&'a str),
    Index(usize),
}

impl<'a> At<'a> {
    pub(super) fn of(path: &'a str) -> At<'a> {
        At {
            parent: path,
            step: Step::Here,
        }
    }

    pub(super) fn key(parent: &'a str, key: &'a str) -> At<'a> {
        At {
            parent,
            step: Step::Key(key),
        }
    }

    pub(super) fn pointer(self) -> String {
        match self.step {
            Step::Here => self.parent.to_owned(),
            Step::Key(key) => pointer(self.parent, key),
            Step::Index(i) => format!("{}/{i}", self.parent),
        }
    }
}

impl<'v> Object<'v> {
    pub(super) fn field<'o>(&'o self, key: &'o str) -> Field<'v, 'o> {
        Field {
            value: self.map.get(key),
            at: At::key(&self.path, key),
        }
    }

    /// Present, even if null or invalid: decides which dependency errors to report.
    pub(super) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }
}

/// `path` + `/key`, with `~` and `/` escaped as RFC 6901 says.
pub(super) fn pointer(path: &str, key: &str) -> String {
    let mut p = String::with_capacity(path.len() + key.len() + 1);
    p.push_str(path);
    p.push('/');
    // The schema's own names (the usual case) need no escaping.
    if !key.contains(['~', '/']) {
        p.push_str(key);
        return p;
    }
    for c in key.chars() {
        match c {
            '~' => p.push_str("~0"),
            '/' => p.push_str("~1"),
            c => p.push(c),
        }
    }
    p
}

pub(super) fn text(
    (min, max): (usize, usize),
) -> impl Fn(&mut Parser, &Value, At<'_>) -> Option<String> {
    move |p, v, path| p.text(v, path, min, max)
}

/// [`text`] that must also be [plain](crate::domain::text::is_plain_char): identifiers.
pub(super) fn identifier(
    (min, max): (usize, usize),
) -> impl Fn(&mut Parser, &Value, At<'_>) -> Option<String> {
    move |p, v, path| {
        let s = p.text(v, path, min, max)?;
        match crate::domain::text::check_plain(&s) {
            Ok(()) => Some(s),
            Err(reason) => {
                p.report(path, reason);
                None
            }
        }
    }
}

pub(super) fn integer<T: TryFrom<i128>>(
    (min, max): (i128, i128),
) -> impl Fn(&mut Parser, &Value, At<'_>) -> Option<T> {
    move |p, v, path| p.integer(v, path, min, max)
}

pub(super) fn number(
    (min, max): (f64, f64),
) -> impl Fn(&mut Parser, &Value, At<'_>) -> Option<f64> {
    move |p, v, path| p.number(v, path, min, max)
}

pub(super) fn list<T>(
    item: impl Fn(&mut Parser, &Value, At<'_>) -> Option<T>,
) -> impl Fn(&mut Parser, &Value, At<'_>) -> Option<Vec<T>> {
    move |p, v, path| p.array(v, path, &item)
}

impl Parser {
    pub(super) fn report(&mut self, at: At<'_>, reason: impl Into<String>) {
        self.details.push(Detail::new(at.pointer(), reason));
    }

    // --- presence -----------------------------------------------------------------------

    pub(super) fn required<'v, T>(
        &mut self,
        field: Field<'v, '_>,
        read: impl FnOnce(&mut Self, &'v Value, At<'_>) -> Option<T>,
    ) -> Option<T> {
        match field.value {
            None => {
                self.report(field.at, "is required");
                None
            }
            Some(Value::Null) => {
                self.report(field.at, "must not be null");
                None
            }
            Some(v) => read(self, v, field.at),
        }
    }

    /// `Some(None)` when absent, `None` when present and invalid (reported).
    pub(super) fn optional<'v, T>(
        &mut self,
        field: Field<'v, '_>,
        read: impl FnOnce(&mut Self, &'v Value, At<'_>) -> Option<T>,
    ) -> Option<Option<T>> {
        match field.value {
            None => Some(None),
            Some(Value::Null) => {
                self.report(field.at, "must not be null");
                None
            }
            Some(v) => read(self, v, field.at).map(Some),
        }
    }

    /// Like [`Parser::optional`], `null` meaning absent.
    pub(super) fn nullable<'v, T>(
        &mut self,
        field: Field<'v, '_>,
        read: impl FnOnce(&mut Self, &'v Value, At<'_>) -> Option<T>,
    ) -> Option<Option<T>> {
        match field.value {
            None | Some(Value::Null) => Some(None),
            Some(v) => read(self, v, field.at).map(Some),
        }
    }

    /// `key` present without `needed`: reported at `needed`'s path.
    pub(super) fn requires(&mut self, object: &Object<'_>, key: &str, needed: &str) {
        if object.has(key) && !object.has(needed) {
            self.report(
                At::key(&object.path, needed),
                format!("is required with {key}"),
            );
        }
    }

    // --- JSON types ---------------------------------------------------------------------

    pub(super) fn object<'v>(
        &mut self,
        value: &'v Value,
        path: At<'_>,
        allowed: &[&str],
    ) -> Option<Object<'v>> {
        let Some(map) = value.as_object() else {
            self.report(path, "must be an object");
            return None;
        };
        let base = path.pointer();
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                self.report(At::key(&base, key), "unknown field");
            }
        }
        Some(Object { map, path: base })
    }

    pub(super) fn array<T>(
        &mut self,
        value: &Value,
        path: At<'_>,
        item: &impl Fn(&mut Self, &Value, At<'_>) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Some(values) = value.as_array() else {
            self.report(path, "must be an array");
            return None;
        };
        // The items of an oversized array are not read: one error, not hundreds.
        if values.len() > MAX_ITEMS {
            self.report(path, format!("must have at most {MAX_ITEMS} items"));
            return None;
        }
        let base = path.pointer();
        let mut items = Vec::with_capacity(values.len());
        let mut all_valid = true;
        for (i, v) in values.iter().enumerate() {
            let at = At {
                parent: &base,
                step: Step::Index(i),
            };
            match item(self, v, at) {
                Some(t) => items.push(t),
                None => all_valid = false,
            }
        }
        all_valid.then_some(items)
    }

    pub(super) fn string<'v>(&mut self, value: &'v Value, path: At<'_>) -> Option<&'v str> {
        let s = value.as_str();
        if s.is_none() {
            self.report(path, "must be a string");
        }
        s
    }

    /// A string of `min` to `max` characters (not bytes).
    pub(super) fn text(
        &mut self,
        value: &Value,
        path: At<'_>,
        min: usize,
        max: usize,
    ) -> Option<String> {
        let s = self.string(value, path)?;
        if !(min..=max).contains(&s.chars().count()) {
            self.report(path, format!("must be {min} to {max} characters"));
            return None;
        }
        Some(s.to_owned())
    }

    pub(super) fn boolean(&mut self, value: &Value, path: At<'_>) -> Option<bool> {
        let b = value.as_bool();
        if b.is_none() {
            self.report(path, "must be a boolean");
        }
        b
    }

    /// An integer in `min..=max`; `2.0` counts as the integer 2, as in JSON Schema.
    pub(super) fn integer<T: TryFrom<i128>>(
        &mut self,
        value: &Value,
        path: At<'_>,
        min: i128,
        max: i128,
    ) -> Option<T> {
        let Some(i) = value.as_number().and_then(integral) else {
            self.report(path, "must be an integer");
            return None;
        };
        match T::try_from(i) {
            Ok(t) if (min..=max).contains(&i) => Some(t),
            _ => {
                self.report(path, format!("must be between {min} and {max}"));
                None
            }
        }
    }

    pub(super) fn number(
        &mut self,
        value: &Value,
        path: At<'_>,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        let Some(x) = value.as_f64() else {
            self.report(path, "must be a number");
            return None;
        };
        if !(min..=max).contains(&x) {
            self.report(path, format!("must be between {min} and {max}"));
            return None;
        }
        Some(x)
    }

    pub(super) fn one_of<T: Copy>(
        &mut self,
        value: &Value,
        path: At<'_>,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let s = self.string(value, path)?;
        let found = choices.iter().find(|(name, _)| *name == s).map(|(_, t)| *t);
        if found.is_none() {
            let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
            self.report(path, format!("must be one of: {}", names.join(", ")));
        }
        found
    }

    // --- formats ------------------------------------------------------------------------

    pub(super) fn datetime(&mut self, value: &Value, path: At<'_>) -> Option<DateTime<Utc>> {
        let s = self.string(value, path)?;
        if s.chars().count() > MAX_DATETIME_CHARS {
            self.report(
                path,
                format!("must be at most {MAX_DATETIME_CHARS} characters"),
            );
            return None;
        }
        match DateTime::parse_from_rfc3339(s) {
            Ok(dt) => Some(dt.with_timezone(&Utc)),
            Err(_) => {
                self.report(path, "must be an RFC 3339 date-time with offset");
                None
            }
        }
    }

    pub(super) fn phone(&mut self, value: &Value, path: At<'_>) -> Option<Phone> {
        let s = self.string(value, path)?;
        Phone::parse(s)
            .map_err(|e| self.report(path, e.to_string()))
            .ok()
    }

    pub(super) fn phone_trunc(&mut self, value: &Value, path: At<'_>) -> Option<PhoneTrunc> {
        let s = self.string(value, path)?;
        PhoneTrunc::parse(s)
            .map_err(|e| self.report(path, e.to_string()))
            .ok()
    }

    pub(super) fn email(&mut self, value: &Value, path: At<'_>) -> Option<Email> {
        let (min, max) = EMAIL_CHARS;
        let s = self.text(value, path, min, max)?;
        if !plausible_email(&s) {
            self.report(path, "must be a valid e-mail address");
            return None;
        }
        Some(Email(s))
    }

    pub(super) fn insee(&mut self, value: &Value, path: At<'_>) -> Option<Insee> {
        let s = self.string(value, path)?;
        if !is_insee(s) {
            self.report(
                path,
                "must be an INSEE code: digit, digit or A or B, 3 digits",
            );
            return None;
        }
        // 99xxx: a country (INSEE's codes for places abroad).
        if !s.starts_with("99") && !crate::domain::geo::index::is_commune_code(s) {
            self.report(path, "is not a commune of the Code officiel géographique");
            return None;
        }
        Some(Insee(s.to_owned()))
    }

    pub(super) fn siret(&mut self, value: &Value, path: At<'_>) -> Option<Siret> {
        let s = self.string(value, path)?;
        operator::parse_siret(s)
            .map(Siret)
            .map_err(|reason| self.report(path, reason))
            .ok()
    }

    // --- the document -------------------------------------------------------------------
}

/// The integer a JSON number stands for, if it has no fractional part. Floats beyond the
/// `i128` range saturate, which every range check then refuses.
pub(super) fn integral(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.into());
    }
    let x = n.as_f64()?;
    (x.fract() == 0.0).then_some(x as i128)
}

/// `^[0-9][0-9AB][0-9]{3}$`
pub fn is_insee(s: &str) -> bool {
    match s.as_bytes() {
        [a, b, rest @ ..] if rest.len() == 3 => {
            a.is_ascii_digit()
                && (b.is_ascii_digit() || *b == b'A' || *b == b'B')
                && rest.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// One `@`, a non-empty local part, a domain of non-empty dot-separated labels (at least
/// two), no whitespace or control characters. Deliverability is not ours to check.
pub(super) fn plausible_email(s: &str) -> bool {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}
