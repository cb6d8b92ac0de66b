//! The registry's signature on CEE applications: RSASSA-PKCS1-v1_5 with SHA-512 and an
//! RSA 4096-bit key (PKCS#8 PEM from `REGISTRY_SIGNING_KEY`), base64 with padding. PKCS#1
//! v1.5 signatures are deterministic: the same key and message give the same token.
//! Signing is `ring`'s (constant-time, blinded, assembly big-number code from BoringSSL:
//! ~4× faster than RustCrypto's `rsa` for a 4096-bit key, and already in the build through
//! rustls); `rsa` (pure Rust) reads and generates keys and exports the public key, which
//! ring cannot do.

use std::fmt;

use base64::Engine;
use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA512};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;

use super::fields::JourneyType;
use crate::clock::rfc3339;

pub const KEY_BITS: usize = 4096;

pub struct Signer {
    key: RsaKeyPair,
    rng: SystemRandom,
    public: PublishedKey,
}

/// A public key that verifies tokens, with its key id: the signer's own, or a previous one
/// still published during a rotation (`REGISTRY_SIGNING_KEY_PREVIOUS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedKey {
    /// [`key_id`] of the key.
    pub kid: String,
    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub pem: String,
}

/// A key's id: the first 16 hex digits of the SHA-256 of its public key in SPKI DER, so
/// anyone holding the published PEM computes the same id:
/// `openssl pkey -pubin -in pub.pem -outform DER | sha256sum | cut -c1-16`.
pub fn key_id(public: &rsa::RsaPublicKey) -> Result<String, String> {
    use sha2::{Digest, Sha256};
    let der = public
        .to_public_key_der()
        .map_err(|e| format!("cannot encode the public key: {e}"))?;
    Ok(hex::encode(Sha256::digest(der.as_bytes()))[..16].to_owned())
}

impl PublishedKey {
    fn of(public: &rsa::RsaPublicKey) -> Result<PublishedKey, String> {
        if public.size() * 8 != KEY_BITS {
            return Err(format!(
                "the key has {} bits; the CEE signature needs {KEY_BITS}",
                public.size() * 8
            ));
        }
        Ok(PublishedKey {
            kid: key_id(public)?,
            pem: public
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| format!("cannot encode the public key: {e}"))?,
        })
    }

    /// Every key in `pem`, one or more PEM blocks: public keys (SPKI, `BEGIN PUBLIC KEY`)
    /// or PKCS#8 private keys (only their public part is kept). Literal `\n` sequences are
    /// read as line breaks, as in [`Signer::from_pkcs8_pem`].
    pub fn parse_all(pem: &str) -> Result<Vec<PublishedKey>, String> {
        use rsa::pkcs8::DecodePublicKey;
        let text = pem.trim().replace("\\n", "\n");
        let mut keys = Vec::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("-----BEGIN ") {
            let block = &rest[start..];
            let label_end = block[11..]
                .find("-----")
                .map(|i| i + 11)
                .ok_or("a PEM header is not closed")?;
            let label = &block[11..label_end];
            let footer = format!("-----END {label}-----");
            let end = block
                .find(&footer)
                .map(|i| i + footer.len())
                .ok_or_else(|| format!("no {footer}"))?;
            let one = &block[..end];
            let public = match label {
                "PUBLIC KEY" => rsa::RsaPublicKey::from_public_key_pem(one)
                    .map_err(|e| format!("not an SPKI RSA public key ({e})"))?,
                "PRIVATE KEY" => RsaPrivateKey::from_pkcs8_pem(one)
                    .map_err(|e| format!("not a PKCS#8 RSA private key ({e})"))?
                    .to_public_key(),
                other => return Err(format!("{other}: expected PUBLIC KEY or PRIVATE KEY")),
            };
            keys.push(Self::of(&public)?);
            rest = &block[end..];
        }
        if keys.is_empty() {
            return Err("no PEM key found".into());
        }
        Ok(keys)
    }
}

/// Never prints the private key.
impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(RSA 4096, private key hidden)")
    }
}

impl Signer {
    /// A PKCS#8 PEM private key of 4096 bits. Environment variables often hold one line:
    /// literal `\n` sequences are read as line breaks.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Signer, String> {
        let pem = pem.trim().replace("\\n", "\n");
        let key = RsaPrivateKey::from_pkcs8_pem(&pem)
            .map_err(|e| format!("not a PKCS#8 PEM RSA private key ({e})"))?;
        Self::from_key(key)
    }

    fn from_key(key: RsaPrivateKey) -> Result<Signer, String> {
        let bits = key.size() * 8;
        if bits != KEY_BITS {
            return Err(format!(
                "the key has {bits} bits; the CEE signature needs {KEY_BITS}"
            ));
        }
        let public = PublishedKey::of(&key.to_public_key())?;
        let der = key
            .to_pkcs8_der()
            .map_err(|e| format!("cannot encode the key: {e}"))?;
        let key = RsaKeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| format!("the key cannot sign: {e}"))?;
        Ok(Signer {
            key,
            rng: SystemRandom::new(),
            public,
        })
    }

    /// A new key and its PKCS#8 PEM (slow: seconds, even optimised).
    pub fn generate() -> Result<(Signer, String), String> {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)
            .map_err(|e| format!("key generation failed: {e}"))?;
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the key: {e}"))?
            .to_string();
        Ok((Self::from_key(key)?, pem))
    }

    /// The public key, SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> &str {
        &self.public.pem
    }

    /// The id of this key ([`key_id`]), returned with every token it signs.
    pub fn key_id(&self) -> &str {
        &self.public.kid
    }

    /// The public key with its id.
    pub fn published(&self) -> &PublishedKey {
        &self.public
    }

    /// Base64 (standard, padded) of the signature of `message`.
    pub fn sign(&self, message: &str) -> String {
        let mut signature = vec![0; self.key.public().modulus_len()];
        // Fails only for a buffer of the wrong size or a broken system random generator
        // (blinding); an empty token is then refused by every verifier, never a wrong one.
        if let Err(e) = self.key.sign(
            &RSA_PKCS1_SHA512,
            &self.rng,
            message.as_bytes(),
            &mut signature,
        ) {
            tracing::error!(error = %e, "CEE signature failed");
            return String::new();
        }
        base64::engine::general_purpose::STANDARD.encode(signature)
    }
}

/// `<siret>/<journey_type>/<driving_license>/<datetime>`, the datetime in UTC with
/// milliseconds (`2024-03-15T00:15:00.000Z`); imported records have an empty licence.
pub fn token_message(
    siret: &str,
    journey_type: JourneyType,
    driving_license: &str,
    datetime: DateTime<Utc>,
) -> String {
    format!(
        "{siret}/{}/{driving_license}/{}",
        journey_type.as_str(),
        rfc3339(datetime)
    )
}

/// The test kit's 4096-bit key (`registry_testkit::keys`), made once per test process,
/// never committed. Only a PEM crosses from the kit: these unit tests link a second copy of
/// this crate through it.
#[cfg(test)]
pub fn test_signer() -> std::sync::Arc<Signer> {
    use std::sync::{Arc, OnceLock};
    static SIGNER: OnceLock<Arc<Signer>> = OnceLock::new();
    SIGNER
        .get_or_init(|| {
            let pem = registry_testkit::keys::signing_key_pem();
            Arc::new(Signer::from_pkcs8_pem(pem).expect("test key"))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_format_is_the_specs() {
        let at: DateTime<Utc> = "2024-03-15T01:15:00+01:00".parse().unwrap();
        assert_eq!(
            token_message("89248032800012", JourneyType::Short, "051227308989", at),
            "89248032800012/short/051227308989/2024-03-15T00:15:00.000Z"
        );
        assert_eq!(
            token_message("89248032800012", JourneyType::Long, "", at),
            "89248032800012/long//2024-03-15T00:15:00.000Z"
        );
    }

    #[test]
    fn signatures_are_deterministic_and_verify() {
        use rsa::pkcs1v15::{Signature, VerifyingKey};
        use rsa::pkcs8::DecodePublicKey;
        use rsa::signature::Verifier;
        use sha2::Sha512;
        let signer = test_signer();
        let a = signer.sign("x/short/1/2024-01-01T00:00:00.000Z");
        assert_eq!(a, signer.sign("x/short/1/2024-01-01T00:00:00.000Z"));
        assert_ne!(a, signer.sign("x/short/2/2024-01-01T00:00:00.000Z"));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&a)
            .unwrap();
        assert_eq!(bytes.len(), 512);
        let public = rsa::RsaPublicKey::from_public_key_pem(signer.public_key_pem()).unwrap();
        let verifier = VerifyingKey::<Sha512>::new(public);
        let signature = Signature::try_from(bytes.as_slice()).unwrap();
        verifier
            .verify(b"x/short/1/2024-01-01T00:00:00.000Z", &signature)
            .unwrap();
        assert!(verifier
            .verify(b"x/short/1/2024-01-01T00:00:00.001Z", &signature)
            .is_err());
    }

    #[test]
    fn the_key_id_is_what_openssl_gives_from_the_published_pem() {
        let signer = test_signer();
        let kid = signer.key_id();
        assert_eq!(kid.len(), 16);
        assert!(kid.bytes().all(|b| b.is_ascii_hexdigit()));
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("pub.pem");
        std::fs::write(&pem, signer.public_key_pem()).unwrap();
        let der = std::process::Command::new("openssl")
            .args(["pkey", "-pubin", "-outform", "DER", "-in"])
            .arg(&pem)
            .output()
            .unwrap();
        assert!(der.status.success());
        use sha2::Digest;
        assert_eq!(&hex::encode(sha2::Sha256::digest(&der.stdout))[..16], kid);
    }

    #[test]
    fn previous_keys_are_read_from_public_or_private_pems() {
        let signer = test_signer();
        let private = registry_testkit::keys::new_key_pem(4096);
        let from_private = PublishedKey::parse_all(&private).unwrap();
        assert_eq!(from_private.len(), 1);
        assert_ne!(from_private[0].kid, signer.key_id());
        // Its public part, alone or after another key, on one line with literal \n.
        let both = format!("{}\n{}", signer.public_key_pem(), from_private[0].pem);
        let keys = PublishedKey::parse_all(&both.replace('\n', "\\n")).unwrap();
        assert_eq!(
            keys,
            vec![signer.published().clone(), from_private[0].clone()]
        );
        assert!(PublishedKey::parse_all("").is_err());
        assert!(PublishedKey::parse_all(
            "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----"
        )
        .is_err());
        assert!(PublishedKey::parse_all(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        )
        .is_err());
    }

    #[test]
    fn other_key_sizes_and_garbage_are_refused() {
        let pem = registry_testkit::keys::new_key_pem(2048);
        assert!(Signer::from_pkcs8_pem(&pem)
            .unwrap_err()
            .contains("2048 bits"));
        assert!(Signer::from_pkcs8_pem("hello").is_err());
        // One-line form with literal \n, as environment variables often carry it.
        let one_line = pem.replace('\n', "\\n");
        assert!(Signer::from_pkcs8_pem(&one_line)
            .unwrap_err()
            .contains("2048"));
    }
}

#[cfg(test)]
mod timing {
    /// `cargo test -p registry-core --release sign_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, not a check"]
    fn sign_timing() {
        let signer = super::test_signer();
        let start = std::time::Instant::now();
        for i in 0..50 {
            signer.sign(&format!(
                "89248032800012/short/{i}/2024-03-15T00:15:00.000Z"
            ));
        }
        println!("{:?} per signature", start.elapsed() / 50);
    }
}
