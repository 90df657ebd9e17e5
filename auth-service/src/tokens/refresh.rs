//! Refresh-token values. A token is 32 random bytes (base64url); only its
//! SHA-256 is stored. A rotated token's successor is derived from it with an
//! HMAC under a server secret, so a retry of the same token within the grace
//! window can be given the same successor without storing it in clear, and
//! nobody without the server secret can compute it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::random_bytes;

/// A fresh, random refresh token.
pub fn generate() -> anyhow::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// What is stored of a refresh token.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The server secret behind successor tokens.
#[derive(Clone)]
pub struct RotationSecret(Vec<u8>);

impl RotationSecret {
    pub fn new(secret: Vec<u8>) -> Self {
        Self(secret)
    }

    fn mac(&self, purpose: &[u8], token: &str) -> [u8; 32] {
        // HMAC accepts keys of any length; this cannot fail.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(purpose);
        mac.update(token.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The refresh token that replaces `token` when it is rotated.
    pub fn successor(&self, token: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(b"refresh-successor\0", token))
    }

    /// The `jti` of the access token issued when `token` is rotated.
    pub fn access_token_id(&self, token: &str) -> String {
        let bytes = self.mac(b"access-jti\0", token);
        hex(&bytes[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_are_stable_secret_and_distinct() {
        let secret = RotationSecret::new(b"server secret".to_vec());
        let token = generate().unwrap();
        assert_eq!(token.len(), 43);
        assert_eq!(secret.successor(&token), secret.successor(&token));
        assert_ne!(secret.successor(&token), token);
        assert_ne!(
            RotationSecret::new(b"other".to_vec()).successor(&token),
            secret.successor(&token)
        );
        assert_ne!(
            secret.successor(&generate().unwrap()),
            secret.successor(&token)
        );
        assert_eq!(secret.access_token_id(&token).len(), 32);
        assert_eq!(hash("abc").len(), 64);
    }
}
