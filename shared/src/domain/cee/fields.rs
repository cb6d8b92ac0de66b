//! The fields of the CEE API (cee.md, "Fields"), parsed into types that only hold valid
//! values, and a reader that collects every violation of a JSON object with its pointer.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::domain::error::Detail;
use crate::domain::phone::PhoneTrunc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JourneyType {
    Short,
    Long,
}

impl JourneyType {
    pub fn as_str(self) -> &'static str {
        match self {
            JourneyType::Short => "short",
            JourneyType::Long => "long",
        }
    }

    pub fn parse(s: &str) -> Result<JourneyType, String> {
        match s {
            "short" => Ok(JourneyType::Short),
            "long" => Ok(JourneyType::Long),
            _ => Err("must be short or long".into()),
        }
    }
}

/// `^[A-Z ]{3}$`: the first three letters of the upper-case, accent-free last name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LastNameTrunc(String);

impl LastNameTrunc {
    pub fn parse(s: &str) -> Result<LastNameTrunc, String> {
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase() || b == b' ') {
            Ok(LastNameTrunc(s.to_owned()))
        } else {
            Err("must be exactly 3 characters among A-Z and space".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A French or foreign driving licence number, upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DrivingLicense(String);

impl DrivingLicense {
    /// 12 digits; 1–15 alphanumerics then 4 digits; 1–15 alphanumerics; `99-` then 1–61
    /// characters (foreign licence). The first is a case of the second, kept for the record.
    pub fn parse(s: &str) -> Result<DrivingLicense, String> {
        let upper_alnum = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
        let n = s.len();
        let post_1975 = n == 12 && s.bytes().all(|b| b.is_ascii_digit());
        let alnum_then_digits = (5..=19).contains(&n)
            && s.bytes().take(n - 4).all(upper_alnum)
            && s.bytes().skip(n - 4).all(|b| b.is_ascii_digit());
        let alnum = (1..=15).contains(&n) && s.bytes().all(upper_alnum);
        let foreign = s
            .strip_prefix("99-")
            .is_some_and(|rest| (1..=61).contains(&rest.chars().count()))
            && !s.chars().any(|c| c.is_lowercase() || c.is_control());
        if post_1975 || alnum_then_digits || alnum || foreign {
            Ok(DrivingLicense(s.to_owned()))
        } else {
            Err(
                "must be an upper-case licence number: 12 digits, 1-15 letters or digits \
                 (optionally followed by 4 digits), or 99- and 1-61 characters"
                    .into(),
            )
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 (64 lower-case hex characters) of `"<full E.164 phone>-<FULL LAST NAME>"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdentityKey(String);

impl IdentityKey {
    pub fn parse(s: &str) -> Result<IdentityKey, String> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(IdentityKey(s.to_owned()))
        } else {
            Err("must be 64 lower-case hexadecimal characters (SHA-256)".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 3339 with a mandatory offset (`Z` or `±hh:mm`).
pub fn parse_datetime(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| "must be an RFC 3339 datetime with an offset (Z or +hh:mm)".into())
}

pub fn parse_phone_trunc(s: &str) -> Result<PhoneTrunc, String> {
    PhoneTrunc::parse(s).map_err(|e| {
        format!("{e}: a phone number without its last two digits (06123456 or +336123456)")
    })
}

/// `operator_journey_id`: 1–256 characters.
pub fn parse_journey_id(s: &str) -> Result<String, String> {
    if (1..=256).contains(&s.chars().count()) {
        Ok(s.to_owned())
    } else {
        Err("must be 1 to 256 characters".into())
    }
}

/// Reads the members of one JSON object, collecting every violation with its JSON pointer
/// (`/3/phone_trunc` for the item at index 3 of an array). `null` counts as absent.
pub struct Reader<'a> {
    object: Option<&'a Map<String, Value>>,
    base: String,
    pub details: Vec<Detail>,
}

impl<'a> Reader<'a> {
    /// `base` is the pointer of the object itself (`""` for the body, `/3` for an item).
    pub fn new(value: &'a Value, base: impl Into<String>) -> Reader<'a> {
        let base = base.into();
        let mut details = Vec::new();
        let object = value.as_object();
        if object.is_none() {
            details.push(Detail::new(base.clone(), "must be a JSON object"));
        }
        Reader {
            object,
            base,
            details,
        }
    }

    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }

    fn fail(&mut self, name: &str, reason: impl Into<String>) {
        let path = self.path(name);
        self.details.push(Detail::new(path, reason));
    }

    fn string(&mut self, name: &str) -> Option<&'a str> {
        match self.object?.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.fail(name, "must be a string");
                None
            }
        }
    }

    pub fn present(&self, name: &str) -> bool {
        self.object
            .and_then(|o| o.get(name))
            .is_some_and(|v| !v.is_null())
    }

    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if self.object.is_some() && !self.present(name) {
            self.fail(name, "is required");
            return None;
        }
        self.optional(name, parse)
    }

    pub fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = self.string(name)?;
        match parse(s) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.fail(name, reason);
                None
            }
        }
    }

    pub fn forbidden(&mut self, name: &str, why: &str) {
        if self.present(name) {
            self.fail(name, format!("is not allowed {why}"));
        }
    }

    /// Every member not in `allowed` is an error.
    pub fn only(&mut self, allowed: &[&str]) {
        let Some(object) = self.object else { return };
        let unknown: Vec<String> = object
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| k.replace('~', "~0").replace('/', "~1"))
            .collect();
        for name in unknown {
            self.fail(&name, "unknown field");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn last_name_trunc() {
        for ok in ["TO ", "ABC", "D A", "   "] {
            assert!(LastNameTrunc::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["TO", "abc", "ÉAB", "AB-", "ABCD", "A'B"] {
            assert!(LastNameTrunc::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn driving_licences() {
        for ok in [
            "051227308989",
            "A",
            "ABCDEFGHIJKLMNO",
            "ABCDEFGHIJKLMNO1234",
            "99-FOREIGN/1",
            "99-X",
            "99-ÉTRANGER 12",
        ] {
            assert!(DrivingLicense::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "abc",
            "ABCDEFGHIJKLMNOP",
            "ABCDEFGHIJKLMNOP1234",
            "AB-12",
            "99-",
            "99-lower",
            &format!("99-{}", "X".repeat(62)),
        ] {
            assert!(DrivingLicense::parse(bad).is_err(), "{bad}");
        }
        assert!(DrivingLicense::parse(&format!("99-{}", "X".repeat(61))).is_ok());
    }

    #[test]
    fn identity_keys_and_datetimes() {
        assert!(IdentityKey::parse(&"a1".repeat(32)).is_ok());
        assert!(IdentityKey::parse(&"A1".repeat(32)).is_err());
        assert!(IdentityKey::parse(&"a1".repeat(31)).is_err());
        assert!(parse_datetime("2024-03-15T01:15:00+01:00").is_ok());
        assert!(parse_datetime("2024-03-15T00:15:00Z").is_ok());
        assert!(parse_datetime("2024-03-15T00:15:00").is_err());
        assert!(parse_datetime("2024-03-15").is_err());
    }

    #[test]
    fn reader_collects_every_violation_with_its_pointer() {
        let v =
            json!({"journey_type": "medium", "last_name_trunc": 3, "x": 1, "phone_trunc": null});
        let mut r = Reader::new(&v, "/3");
        assert!(r.required("journey_type", JourneyType::parse).is_none());
        assert!(r
            .required("last_name_trunc", LastNameTrunc::parse)
            .is_none());
        assert!(r.required("phone_trunc", parse_phone_trunc).is_none());
        r.only(&["journey_type", "last_name_trunc", "phone_trunc"]);
        let paths: Vec<&str> = r.details.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/3/journey_type",
                "/3/last_name_trunc",
                "/3/phone_trunc",
                "/3/x"
            ]
        );
        let not_object = json!([1]);
        assert_eq!(Reader::new(&not_object, "/0").details[0].path, "/0");
    }
}
