//! Phone numbers of carpoolers, validated with libphonenumber's metadata (the `phonenumber`
//! crate) and stored in E.164 (`+33698765432`). National numbers are read as French.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use phonenumber::{country, Mode, PhoneNumber};

/// A valid phone number in E.164.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Phone(String);

/// A valid phone number in E.164 without its last 2 digits (`+336987654`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PhoneTrunc(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoneError {
    /// Too short or too long, in characters, before normalisation.
    Length {
        min: usize,
        max: usize,
    },
    NotAPhoneNumber,
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneError::Length { min, max } => write!(f, "must be {min} to {max} characters"),
            PhoneError::NotAPhoneNumber => f.write_str("must be a valid phone number"),
        }
    }
}

impl std::error::Error for PhoneError {}

pub const PHONE_CHARS: (usize, usize) = (10, 20);
pub const TRUNC_CHARS: (usize, usize) = (8, 20);

impl Phone {
    /// `06 98 76 54 32`, `0698765432`, `+33 6 98 76 54 32`, `+44 7911 123456`: 10–20
    /// characters, a number valid for its country.
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        check_length(input, PHONE_CHARS)?;
        valid_e164(input).map(Phone)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same number as a `phone_trunc` would give it.
    pub fn truncated(&self) -> PhoneTrunc {
        PhoneTrunc(without_last_two(&self.0).to_owned())
    }
}

impl PhoneTrunc {
    /// A truncated phone as the registry stored it (normalised by [`PhoneTrunc::parse`] or
    /// [`Phone::truncated`] before): `None` unless it has the shape of one (`+` and digits).
    pub fn from_stored(s: &str) -> Option<PhoneTrunc> {
        let digits = s.strip_prefix('+')?;
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| PhoneTrunc(s.to_owned()))
    }

    /// 8–20 characters; valid when completed with `00` (`+336987654` → `+33698765400`).
    pub fn parse(input: &str) -> Result<PhoneTrunc, PhoneError> {
        check_length(input, TRUNC_CHARS)?;
        let completed = valid_e164(&format!("{input}00"))?;
        // E.164 ends with the national number, so with the `00` just added.
        match completed.strip_suffix("00") {
            Some(trunc) => Ok(PhoneTrunc(trunc.to_owned())),
            None => Err(PhoneError::NotAPhoneNumber),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for PhoneTrunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_length(input: &str, (min, max): (usize, usize)) -> Result<(), PhoneError> {
    let chars = input.chars().count();
    if (min..=max).contains(&chars) {
        Ok(())
    } else {
        Err(PhoneError::Length { min, max })
    }
}

/// Only what people write in a phone number reaches the library: digits, a leading `+`,
/// spaces, dots, dashes and parentheses. This keeps out letters (vanity numbers,
/// extensions), RFC 3966 `tel:` URIs and non-ASCII digits, which libphonenumber would
/// otherwise interpret.
fn plain_phone_text(input: &str) -> bool {
    let rest = input.strip_prefix('+').unwrap_or(input);
    rest.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'.' | b'-' | b'(' | b')'))
}

/// Numbers parsed recently, valid or not. The same carpoolers travel again and again, and
/// libphonenumber's parse and validity check cost a few microseconds, most of a journey's
/// validation. Bounded: a shard that fills up is emptied (no eviction bookkeeping on the
/// hot path). Holds nothing a request did not already hold; never written anywhere.
struct Memo {
    shards: [MemoShard; MEMO_SHARDS],
}

/// Input as written → E.164 or why not.
type MemoShard = Mutex<HashMap<Box<str>, Result<Box<str>, PhoneError>>>;

const MEMO_SHARDS: usize = 8;
const MEMO_SHARD_ENTRIES: usize = 4096;

impl Memo {
    fn get_or_parse(&self, input: &str) -> Result<String, PhoneError> {
        let shard = &self.shards[crate::domain::shard::fnv1a(input) as usize % MEMO_SHARDS];
        if let Some(known) = shard.lock().ok().and_then(|m| m.get(input).cloned()) {
            return known.map(String::from);
        }
        let parsed = parse_e164(input);
        if let Ok(mut map) = shard.lock() {
            if map.len() >= MEMO_SHARD_ENTRIES {
                map.clear();
            }
            map.insert(input.into(), parsed.clone().map(String::into_boxed_str));
        }
        parsed
    }
}

fn valid_e164(input: &str) -> Result<String, PhoneError> {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(|| Memo {
        shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
    })
    .get_or_parse(input)
}

fn parse_e164(input: &str) -> Result<String, PhoneError> {
    if !plain_phone_text(input) {
        return Err(PhoneError::NotAPhoneNumber);
    }
    let number: PhoneNumber = phonenumber::parse(Some(country::Id::FR), input)
        .map_err(|_| PhoneError::NotAPhoneNumber)?;
    if number.extension().is_some() || !phonenumber::is_valid(&number) {
        return Err(PhoneError::NotAPhoneNumber);
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

fn without_last_two(e164: &str) -> &str {
    // E.164 is ASCII and valid numbers are longer than 2 characters.
    e164.get(..e164.len().saturating_sub(2)).unwrap_or(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memo_answers_what_the_library_answers_and_stays_bounded() {
        let memo = Memo {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        };
        for input in [
            "06 98 76 54 32",
            "+33698765432",
            "0612",
            "+999 123456789",
            "12",
        ] {
            let first = memo.get_or_parse(input);
            assert_eq!(first, parse_e164(input), "{input}");
            assert_eq!(memo.get_or_parse(input), first, "{input} from the memo");
        }
        for n in 0..(MEMO_SHARDS * MEMO_SHARD_ENTRIES * 2) {
            let _ = memo.get_or_parse(&format!("06{n:08}"));
        }
        for shard in &memo.shards {
            assert!(shard.lock().unwrap().len() <= MEMO_SHARD_ENTRIES);
        }
    }

    /// The library no longer checks its metadata's patterns when it loads them
    /// (vendor/regex-cache, for the cold start): each must compile here instead, through
    /// the same cached regular expression the parser uses, which panics on a bad one.
    #[test]
    fn every_pattern_of_the_phone_metadata_compiles() {
        let mut patterns = 0;
        for meta in phonenumber::metadata::DATABASE.iter() {
            let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let d = meta.descriptors();
                let descriptors = [
                    d.fixed_line(),
                    d.mobile(),
                    d.toll_free(),
                    d.premium_rate(),
                    d.shared_cost(),
                    d.personal_number(),
                    d.voip(),
                    d.pager(),
                    d.uan(),
                    d.emergency(),
                    d.voicemail(),
                    d.short_code(),
                    d.standard_rate(),
                    d.carrier(),
                    d.no_international(),
                ];
                for descriptor in descriptors.into_iter().flatten().chain([d.general()]) {
                    descriptor.national_number().is_match("");
                    patterns += 1;
                }
                let prefixes = [
                    meta.international_prefix(),
                    meta.national_prefix_for_parsing(),
                    meta.leading_digits(),
                ];
                for prefix in prefixes.into_iter().flatten() {
                    prefix.is_match("");
                    patterns += 1;
                }
                for format in meta.formats().iter().chain(meta.international_formats()) {
                    format.pattern().is_match("");
                    patterns += 1;
                    for leading in format.leading_digits() {
                        leading.is_match("");
                        patterns += 1;
                    }
                }
            }));
            assert!(
                compiled.is_ok(),
                "a pattern of {} does not compile",
                meta.id()
            );
        }
        // 4 734 in metadata 9.0.33: an empty or partial walk would prove nothing.
        assert!(patterns > 4_000, "{patterns} patterns");
    }

    fn phone(s: &str) -> Result<String, PhoneError> {
        Phone::parse(s).map(|p| p.as_str().to_owned())
    }

    fn trunc(s: &str) -> Result<String, PhoneError> {
        PhoneTrunc::parse(s).map(|p| p.as_str().to_owned())
    }

    #[test]
    fn french_national_forms_are_read_as_french() {
        for s in [
            "0698765432",
            "06 98 76 54 32",
            "06.98.76.54.32",
            "06-98-76-54-32",
            "(0)6 98 76 54 32",
        ] {
            assert_eq!(phone(s), Ok("+33698765432".into()), "{s}");
        }
        assert_eq!(phone("01 42 68 53 00"), Ok("+33142685300".into()));
    }

    #[test]
    fn international_forms_are_accepted() {
        assert_eq!(phone("+33698765432"), Ok("+33698765432".into()));
        assert_eq!(phone("+33 6 98 76 54 32"), Ok("+33698765432".into()));
        assert_eq!(phone("0033698765432"), Ok("+33698765432".into()));
        assert_eq!(phone("+44 7911 123456"), Ok("+447911123456".into()));
        assert_eq!(phone("+32 470 12 34 56"), Ok("+32470123456".into()));
        // Overseas departments have their own country metadata.
        assert_eq!(phone("+262 692 12 34 56"), Ok("+262692123456".into()));
    }

    #[test]
    fn invalid_numbers_are_refused() {
        for s in [
            "0098765432",      // no such French prefix
            "06987654321",     // one digit too many
            "+33 6 98 76 54",  // too short for its country
            "+999 1234567890", // no such country code
            "0800-FLOWERS",    // letters
            "06 98 76 54 32 x1",
            "tel:+33698765432",
            "+33 6 98 76 54 3\u{0662}",
            "+33+698765432",
            "          ",
        ] {
            assert_eq!(phone(s), Err(PhoneError::NotAPhoneNumber), "{s}");
        }
    }

    #[test]
    fn phone_length_is_10_to_20_characters_before_normalisation() {
        assert_eq!(phone("0698765432").map(|_| ()), Ok(()));
        assert_eq!(
            phone("069876543"),
            Err(PhoneError::Length { min: 10, max: 20 })
        );
        // 20 characters (padded with separators) is fine, 21 is not.
        assert_eq!(phone("+33 6 98 76 54 32   ").map(|_| ()), Ok(()));
        assert_eq!(
            phone("+33 6 98 76 54 32    "),
            Err(PhoneError::Length { min: 10, max: 20 })
        );
        assert_eq!(
            PhoneError::Length { min: 10, max: 20 }.to_string(),
            "must be 10 to 20 characters"
        );
    }

    #[test]
    fn phone_trunc_is_valid_when_completed_with_00() {
        assert_eq!(trunc("+336987654"), Ok("+336987654".into()));
        assert_eq!(trunc("06987654"), Ok("+336987654".into()));
        assert_eq!(trunc("06 98 76 54"), Ok("+336987654".into()));
        assert_eq!(trunc("+44 7911 1234"), Ok("+4479111234".into()));
        assert_eq!(trunc("00987654"), Err(PhoneError::NotAPhoneNumber));
        // A full number completed with 00 is too long to be valid.
        assert_eq!(trunc("+33698765432"), Err(PhoneError::NotAPhoneNumber));
        assert_eq!(trunc("+3369876a"), Err(PhoneError::NotAPhoneNumber));
    }

    #[test]
    fn phone_trunc_length_is_8_to_20_characters() {
        assert_eq!(
            trunc("0698765"),
            Err(PhoneError::Length { min: 8, max: 20 })
        );
        assert_eq!(trunc("06987654").map(|_| ()), Ok(()));
        assert_eq!(trunc("+33 6 98 76 54      ").map(|_| ()), Ok(()));
        assert_eq!(
            trunc("+33 6 98 76 54       "),
            Err(PhoneError::Length { min: 8, max: 20 })
        );
    }

    #[test]
    fn a_phone_truncates_to_its_phone_trunc() {
        let p = Phone::parse("06 98 76 54 32").unwrap();
        assert_eq!(p.truncated(), PhoneTrunc::parse("+336987654").unwrap());
        assert_eq!(p.to_string(), "+33698765432");
    }
}
