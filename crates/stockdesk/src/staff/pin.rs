//! PINs: four to twelve digits, kept only as an Argon2id hash with a salt of its own (the
//! `argon2` crate's defaults, the OWASP minimum: 19 MiB, two passes). Hashing and checking run
//! on a blocking thread: they take tens of milliseconds on purpose.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;

use crate::error::{Error, Result};

const MIN_DIGITS: usize = 4;
const MAX_DIGITS: usize = 12;

/// The hash of `pin` as a PHC string, or a validation error naming the rule it broke. The salt
/// is `salt` (the command's op id: unique, and the same when that command is made again, so a
/// retried `add_staff` reads the same), or random.
pub async fn hash(pin: &str, salt: Option<uuid::Uuid>) -> Result<String> {
    check(pin)?;
    let pin = pin.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = salt.map(|id| *id.as_bytes()).unwrap_or_else(|| {
            let mut bytes = [0u8; 16];
            rand::rng().fill_bytes(&mut bytes);
            bytes
        });
        let salt =
            SaltString::encode_b64(&salt).map_err(|e| Error::Internal(format!("PIN salt: {e}")))?;
        Argon2::default()
            .hash_password(pin.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("hashing a PIN: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing a PIN: {e}")))?
}

/// Whether `pin` is the one `hash` was made from.
pub async fn matches(hash: &str, pin: &str) -> Result<bool> {
    let (hash, pin) = (hash.to_owned(), pin.to_owned());
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| Error::Internal(format!("a stored PIN hash is unreadable: {e}")))?;
        Ok(Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| Error::Internal(format!("checking a PIN: {e}")))?
}

/// Refuses what is not an Argon2id PHC string (a command must carry a hash, never a PIN).
pub fn check_hash(hash: &str) -> Result<()> {
    match PasswordHash::new(hash) {
        Ok(h) if h.algorithm.as_str() == "argon2id" && h.hash.is_some() => Ok(()),
        _ => Err(Error::validation(
            "pin_hash",
            "must be an Argon2id hash ($argon2id$…); the PIN itself is never sent",
        )),
    }
}

fn check(pin: &str) -> Result<()> {
    let digits = pin.chars().count();
    if !pin.chars().all(|c| c.is_ascii_digit()) || !(MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
        return Err(Error::validation(
            "pin",
            format!("{MIN_DIGITS}–{MAX_DIGITS} digits"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pin_matches_its_hash_only() {
        let h = hash("2468", None).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("2468"));
        assert!(matches(&h, "2468").await.unwrap());
        assert!(!matches(&h, "2469").await.unwrap());
        // Salted: the same PIN hashes differently each time, except for the same op id.
        assert_ne!(hash("2468", None).await.unwrap(), h);
        let op = uuid::Uuid::now_v7();
        assert_eq!(
            hash("2468", Some(op)).await.unwrap(),
            hash("2468", Some(op)).await.unwrap()
        );
        assert_ne!(
            hash("2468", Some(op)).await.unwrap(),
            hash("2468", Some(uuid::Uuid::now_v7())).await.unwrap()
        );
        check_hash(&h).unwrap();
        assert!(check_hash("2468").is_err());
    }

    #[tokio::test]
    async fn pins_are_four_to_twelve_digits() {
        for bad in ["123", "1234567890123", "12a4", "", "١٢٣٤"] {
            assert!(hash(bad, None).await.is_err(), "{bad:?}");
        }
        hash("0000", None).await.unwrap();
        hash("123456789012", None).await.unwrap();
    }
}
