//! RSA keys for tests, made by `openssl genpkey` (fast C code; the pure-Rust generation
//! takes seconds even optimised): tests never use a committed private key. Names no
//! `registry-core` type, so `registry-core`'s unit tests use it too.

use std::process::Command;
use std::sync::OnceLock;

/// A new RSA key of `bits` bits, as a PKCS#8 PEM.
pub fn new_key_pem(bits: u32) -> String {
    let out = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &format!("rsa_keygen_bits:{bits}"),
        ])
        .output()
        .expect("openssl genpkey");
    assert!(out.status.success(), "openssl genpkey failed");
    String::from_utf8(out.stdout).expect("PEM")
}

/// The 4096-bit signing key of this test process (PKCS#8 PEM), made on first use.
pub fn signing_key_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(|| new_key_pem(4096))
}
