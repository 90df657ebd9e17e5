//! Tokens an attacker could make: every one is refused with 401 by `me`
//! and reported invalid by `token/validate`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, TestDatabase, claims_of, ed25519_key, expect, header_of, settings_for, spawn_with,
};

/// An app signing with a key the test holds, so it can sign what it likes.
async fn app_with_known_key() -> (TestApp, Vec<u8>, tempfile::TempDir) {
    let (der, pem) = ed25519_key();
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("signing.pem");
    std::fs::write(&path, pem).unwrap();
    let db = TestDatabase::fresh().await;
    let mut settings = settings_for(&db);
    settings.tokens.signing_key_file = Some(path);
    (spawn_with(settings, db).await, der, dir)
}

fn sign(claims: &Value, kid: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let response = app.me(token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["msg"], "Unauthorized: Missing or invalid access token.",
        "{what}"
    );
    let validated = expect(app.validate(token).await, StatusCode::OK).await;
    assert_eq!(validated["isValid"], false, "{what}");
}

#[tokio::test]
async fn forged_and_misused_tokens_are_refused() {
    let (app, der, _dir) = app_with_known_key().await;
    let session = app.register("ann@example.com").await;
    let genuine = session["token"].as_str().unwrap();
    let kid = header_of(genuine)["kid"].as_str().unwrap().to_owned();
    let claims = claims_of(genuine);
    let key = EncodingKey::from_ed_der(&der);

    // Control: the test's own signature over the genuine claims is accepted.
    let resigned = sign(&claims, &kid, &key, Algorithm::EdDSA);
    expect(app.me(&resigned).await, StatusCode::OK).await;

    // alg: none
    let none_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_refused(&app, &format!("{none_header}.{payload}."), "alg none").await;

    // HS256 keyed with the public key (as published, and raw).
    let jwks = expect(app.get("/.well-known/jwks.json").await, StatusCode::OK).await;
    let x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let raw_public = URL_SAFE_NO_PAD.decode(&x).unwrap();
    for secret in [x.as_bytes().to_vec(), raw_public] {
        let forged = sign(
            &claims,
            &kid,
            &EncodingKey::from_secret(&secret),
            Algorithm::HS256,
        );
        assert_refused(&app, &forged, "HS256 with the public key").await;
    }

    // Tampered payload: promote the user, keep the signature.
    let mut parts: Vec<String> = genuine.split('.').map(str::to_owned).collect();
    let mut promoted = claims.clone();
    promoted["sub"] = json!("2");
    parts[1] = URL_SAFE_NO_PAD.encode(promoted.to_string());
    assert_refused(&app, &parts.join("."), "tampered payload").await;

    // Properly signed, but expired / for another audience / from another issuer / not an access token.
    let now = chrono::Utc::now().timestamp();
    let variants = [
        ("expired", json!({"exp": now - 3600, "iat": now - 4500})),
        // Minted "in the future" to outlive its stated lifetime.
        (
            "issued in the future",
            json!({"iat": now + 3600, "exp": now + 4500}),
        ),
        ("wrong audience", json!({"aud": "another-api"})),
        ("wrong issuer", json!({"iss": "https://evil.example"})),
        ("refresh typ", json!({"typ": "refresh"})),
        ("service typ", json!({"typ": "service"})),
    ];
    for (what, changes) in variants {
        let mut forged = claims.clone();
        for (name, value) in changes.as_object().unwrap() {
            forged[name] = value.clone();
        }
        assert_refused(&app, &sign(&forged, &kid, &key, Algorithm::EdDSA), what).await;
    }
    // Within the clock-skew leeway a token from a slightly fast clock passes.
    let mut skewed = claims.clone();
    skewed["iat"] = json!(now + 2);
    let skewed = sign(&skewed, &kid, &key, Algorithm::EdDSA);
    assert_eq!(app.me(&skewed).await.status(), StatusCode::OK);

    // Signed by a key the service does not know, under an unknown kid and under the real kid.
    let (other_der, _) = ed25519_key();
    let other = EncodingKey::from_ed_der(&other_der);
    assert_refused(
        &app,
        &sign(&claims, "unknown-kid", &other, Algorithm::EdDSA),
        "unknown kid",
    )
    .await;
    assert_refused(
        &app,
        &sign(&claims, &kid, &other, Algorithm::EdDSA),
        "wrong key under the real kid",
    )
    .await;

    // No kid at all.
    let no_kid = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &key).unwrap();
    assert_refused(&app, &no_kid, "no kid").await;

    // A refresh token presented as an access token; garbage.
    assert_refused(
        &app,
        session["refreshToken"].as_str().unwrap(),
        "refresh token as access token",
    )
    .await;
    assert_refused(&app, "garbage", "garbage").await;
    assert_refused(&app, "a.b.c", "three garbage parts").await;

    // The genuine token still works after all that.
    expect(app.me(genuine).await, StatusCode::OK).await;
}
