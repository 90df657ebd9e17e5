//! Compact JWS encoding whose header and payload decode with plain base64
//! too. Browser clients of seed 003 read a token's claims with `atob`,
//! which refuses the `-` and `_` of base64url. In the base64 of ASCII
//! bytes those two letters come only from `>`, `?`, `~` and DEL (the last
//! byte of a three-byte group), so the JSON is written with every such
//! character, and every non-ASCII one, as a `\u` escape: JSON readers see
//! the same claims, and no encoded segment contains `-` or `_`. The
//! encoding is deterministic, as EdDSA signatures are.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;

/// Signs `claims` under `header` with `key`: `header.payload.signature`.
pub fn encode(
    header: &Header,
    claims: &impl Serialize,
    key: &EncodingKey,
) -> anyhow::Result<String> {
    let message = format!("{}.{}", segment(header)?, segment(claims)?);
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, header.alg)?;
    Ok(format!("{message}.{signature}"))
}

/// One segment: the value as plain-base64-safe JSON, base64url-encoded.
fn segment(value: &impl Serialize) -> anyhow::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(plain_json(value)?))
}

/// The value as compact JSON in which no byte makes base64 write `+`/`-`
/// or `/`/`_`. Escaping is only ever needed inside strings: outside them
/// JSON has only brackets, punctuation, digits and `true`/`false`/`null`,
/// and the escapes serde_json writes itself (`\"`, `\\`, `\n`, `\u001f`,
/// ...) contain none of the escaped characters.
fn plain_json(value: &impl Serialize) -> anyhow::Result<String> {
    let json = serde_json::to_string(value)?;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() && !matches!(c, '>' | '?' | '~' | '\x7f') {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD_NO_PAD;

    #[test]
    fn payloads_decode_as_plain_base64_to_the_same_claims() {
        let claims = serde_json::json!({
            "name": "Zoë ~>? 😀 O'Brien",
            "iss": "https://accounts.example.com/a?b=c",
            "n": -12.5e3,
            "ok": true,
            "none": null,
            "nested": ["\u{7f}", "\"quoted\"\n"],
        });
        let json = plain_json(&claims).unwrap();
        assert!(json.is_ascii());
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back, claims);
        // Every alignment of every character: no `-` or `_` in any segment.
        for pad in 0..3 {
            let padded = serde_json::json!({ "p": "x".repeat(pad), "c": claims });
            let encoded = segment(&padded).unwrap();
            assert!(!encoded.contains(['-', '_']), "{encoded}");
            let decoded = STANDARD_NO_PAD.decode(&encoded).unwrap();
            let back: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
            assert_eq!(back, padded);
        }
    }

    #[test]
    fn raw_json_of_such_text_would_need_base64url() {
        // The check above can fail: the same claims as raw JSON do produce
        // `-`/`_` in some alignment.
        let raw = serde_json::to_vec(&serde_json::json!({"a": "~>?~>?~>?"})).unwrap();
        let found = (0..3).any(|pad| {
            let mut bytes = vec![b' '; pad];
            bytes.extend_from_slice(&raw);
            URL_SAFE_NO_PAD.encode(bytes).contains(['-', '_'])
        });
        assert!(found);
    }
}
