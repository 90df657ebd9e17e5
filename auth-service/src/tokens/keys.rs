//! The signing key ring. Keys are Ed25519, created on first start and kept
//! in the database so that every replica and every restart signs with, and
//! publishes, the same set; or a single key mounted from a PEM file.
//! The next key is created and published one rotation ahead, so every
//! verifier already holds it when it starts signing. Rotation: the next key
//! signs from then on, the one before retires, a new next key is published;
//! retired keys stay published until the last token they signed has
//! expired. Revoking a key (compromised) unpublishes it at once and tells
//! every verifier on the revocation feed.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::revocation::KeyEvents;
use shared::{Fact, KeySource, VerifyError};

use super::random_bytes;
use crate::entity::signing_key;
use crate::store;

/// The PKCS#8 v1 DER prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

pub const ALGORITHM: &str = "EdDSA";

/// The key that signs new tokens.
pub struct Signer {
    pub kid: String,
    pub key: EncodingKey,
}

struct KeySet {
    signer: Arc<Signer>,
    verifying: HashMap<String, Arc<DecodingKey>>,
    jwks: Value,
}

enum Origin {
    Database(DatabaseConnection),
    File,
}

pub struct KeyRing {
    origin: Origin,
    /// How long a retired key stays published.
    publish_after_retirement: Duration,
    set: RwLock<Arc<KeySet>>,
}

/// An Ed25519 key pair.
struct KeyPair {
    seed: [u8; 32],
    public: [u8; 32],
}

impl KeyPair {
    fn generate() -> anyhow::Result<Self> {
        Ok(Self::from_seed(random_bytes::<32>()?))
    }

    fn from_seed(seed: [u8; 32]) -> Self {
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        Self { seed, public }
    }

    fn pkcs8_der(&self) -> Vec<u8> {
        let mut der = PKCS8_ED25519_PREFIX.to_vec();
        der.extend_from_slice(&self.seed);
        der
    }

    fn from_pkcs8_der(der: &[u8]) -> anyhow::Result<Self> {
        let Some(seed) = der.strip_prefix(&PKCS8_ED25519_PREFIX[..]) else {
            bail!("not an Ed25519 PKCS#8 private key");
        };
        let seed: [u8; 32] = seed
            .try_into()
            .context("Ed25519 private key of the wrong length")?;
        Ok(Self::from_seed(seed))
    }

    fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public)
    }

    /// The RFC 7638 JWK thumbprint, used as the `kid`.
    fn thumbprint(&self) -> String {
        let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, self.x());
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }
}

fn jwk(kid: &str, x: &str) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": ALGORITHM})
}

fn pem_body(pem: &str) -> anyhow::Result<Vec<u8>> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).context("the PEM file is not base64")
}

impl KeyRing {
    /// Loads the keys from the database, creating the first one if there is none.
    pub async fn from_database(
        db: DatabaseConnection,
        publish_after_retirement: Duration,
    ) -> anyhow::Result<Self> {
        let set = Self::load(&db, publish_after_retirement).await?;
        Ok(Self {
            origin: Origin::Database(db),
            publish_after_retirement,
            set: RwLock::new(Arc::new(set)),
        })
    }

    /// Uses one mounted Ed25519 PKCS#8 PEM key.
    pub fn from_pem(pem: &str) -> anyhow::Result<Self> {
        let pair = KeyPair::from_pkcs8_der(&pem_body(pem)?)?;
        let kid = pair.thumbprint();
        let signer = Arc::new(Signer {
            kid: kid.clone(),
            key: EncodingKey::from_ed_der(&pair.pkcs8_der()),
        });
        let verifying = HashMap::from([(
            kid.clone(),
            Arc::new(DecodingKey::from_ed_der(&pair.public)),
        )]);
        let jwks = json!({"keys": [jwk(&kid, &pair.x())]});
        let set = KeySet {
            signer,
            verifying,
            jwks,
        };
        Ok(Self {
            origin: Origin::File,
            publish_after_retirement: Duration::ZERO,
            set: RwLock::new(Arc::new(set)),
        })
    }

    async fn load(
        db: &DatabaseConnection,
        publish_after_retirement: Duration,
    ) -> anyhow::Result<KeySet> {
        let mut rows = store::keys::all(db).await?;
        if missing_keys(&rows) {
            rows = create_missing(db).await?;
        }
        Self::build(rows, publish_after_retirement, Utc::now())
    }

    fn build(
        rows: Vec<signing_key::Model>,
        publish_after_retirement: Duration,
        now: DateTime<Utc>,
    ) -> anyhow::Result<KeySet> {
        let keep =
            chrono::Duration::from_std(publish_after_retirement).unwrap_or(chrono::Duration::MAX);
        let active = rows
            .iter()
            .filter(|row| row.state() == KeyState::Active)
            .max_by_key(|row| row.activated_at)
            .context("no active signing key")?;
        let der = STANDARD
            .decode(&active.private_key)
            .context("stored signing key is not base64")?;
        let signer = Arc::new(Signer {
            kid: active.kid.clone(),
            key: EncodingKey::from_ed_der(&der),
        });
        let published: Vec<&signing_key::Model> = rows
            .iter()
            .filter(|row| row.revoked_at.is_none())
            .filter(|row| row.retired_at.is_none_or(|retired| retired + keep > now))
            .collect();
        let mut verifying = HashMap::new();
        let mut jwks = Vec::new();
        for row in published {
            let public = URL_SAFE_NO_PAD
                .decode(&row.public_key)
                .context("stored public key is not base64url")?;
            verifying.insert(row.kid.clone(), Arc::new(DecodingKey::from_ed_der(&public)));
            jwks.push(jwk(&row.kid, &row.public_key));
        }
        Ok(KeySet {
            signer,
            verifying,
            jwks: json!({ "keys": jwks }),
        })
    }

    /// Reads the key set again (keys rotated by another replica or the CLI).
    pub async fn reload(&self) -> anyhow::Result<()> {
        if let Origin::Database(db) = &self.origin {
            let set = Self::load(db, self.publish_after_retirement).await?;
            *self
                .set
                .write()
                .unwrap_or_else(|poison| poison.into_inner()) = Arc::new(set);
        }
        Ok(())
    }

    /// Rotates (see [`rotate_in`]) and reloads; answers the new signing
    /// `kid` and the facts to spread (recorded already).
    pub async fn rotate(&self) -> anyhow::Result<KeyChange> {
        let change = rotate_in(self.database()?, self.publish_after_retirement).await?;
        self.reload().await?;
        Ok(change)
    }

    /// Revokes a key (see [`revoke_in`]) and reloads.
    pub async fn revoke(&self, kid: &str) -> anyhow::Result<Option<KeyChange>> {
        let change = revoke_in(self.database()?, kid, self.publish_after_retirement).await?;
        self.reload().await?;
        Ok(change)
    }

    fn database(&self) -> anyhow::Result<&DatabaseConnection> {
        match &self.origin {
            Origin::Database(db) => Ok(db),
            Origin::File => {
                bail!("the signing key is mounted from a file; rotate it by mounting a new one")
            }
        }
    }

    /// The `kid` that signs new tokens.
    pub fn signing_kid(&self) -> String {
        self.signer().kid.clone()
    }

    fn current(&self) -> Arc<KeySet> {
        self.set
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    pub fn signer(&self) -> Arc<Signer> {
        self.current().signer.clone()
    }

    /// The published JWKS document.
    pub fn jwks(&self) -> Value {
        self.current().jwks.clone()
    }
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published ahead, not signing yet.
    Next,
    Active,
    /// No longer signing; published until its last token expired.
    Retired,
    /// Compromised: never published, never trusted.
    Revoked,
}

impl signing_key::Model {
    pub fn state(&self) -> KeyState {
        match (self.revoked_at, self.retired_at, self.activated_at) {
            (Some(_), _, _) => KeyState::Revoked,
            (None, Some(_), _) => KeyState::Retired,
            (None, None, Some(_)) => KeyState::Active,
            (None, None, None) => KeyState::Next,
        }
    }
}

/// True when there is no signing key, or no next key published ahead.
fn missing_keys(rows: &[signing_key::Model]) -> bool {
    ![KeyState::Active, KeyState::Next]
        .iter()
        .all(|state| rows.iter().any(|row| row.state() == *state))
}

/// Creates the signing key and the next key where they are missing, in one
/// transaction under the key lock (the one rotations take): replicas
/// starting at once on an empty database create them once, and the others
/// find them when they get the lock. Answers every key row.
async fn create_missing(db: &DatabaseConnection) -> anyhow::Result<Vec<signing_key::Model>> {
    let txn = db.begin().await?;
    store::keys::lock(&txn).await?;
    let rows = store::keys::all(&txn).await?;
    let now = Utc::now();
    if !rows.iter().any(|row| row.state() == KeyState::Active) {
        store::keys::insert(&txn, new_key_row(now, Some(now))?).await?;
    }
    if !rows.iter().any(|row| row.state() == KeyState::Next) {
        store::keys::insert(&txn, new_key_row(now, None)?).await?;
    }
    let rows = store::keys::all(&txn).await?;
    txn.commit().await?;
    Ok(rows)
}

fn new_key_row(
    now: DateTime<Utc>,
    activated_at: Option<DateTime<Utc>>,
) -> anyhow::Result<signing_key::Model> {
    let pair = KeyPair::generate()?;
    Ok(signing_key::Model {
        kid: pair.thumbprint(),
        algorithm: ALGORITHM.to_owned(),
        private_key: STANDARD.encode(pair.pkcs8_der()),
        public_key: pair.x(),
        created_at: now,
        activated_at,
        retired_at: None,
        revoked_at: None,
    })
}

/// What a key operation changed: the `kid` that signs now, and the facts
/// recorded for the verifiers (with the id of the last one).
#[derive(Debug, Clone)]
pub struct KeyChange {
    pub signing_kid: String,
    pub facts: Vec<Fact>,
    pub last_fact_id: i64,
}

/// Rotation as one transaction, serialised against concurrent rotations:
/// the next key signs, every other active key retires, a new next key is
/// published, and a `keysChanged` fact is recorded.
pub async fn rotate_in(db: &DatabaseConnection, fact_ttl: Duration) -> anyhow::Result<KeyChange> {
    let txn = db.begin().await?;
    store::keys::lock(&txn).await?;
    let change = rotate_locked(&txn, fact_ttl, Vec::new()).await?;
    txn.commit().await?;
    Ok(change)
}

async fn rotate_locked(
    txn: &DatabaseTransaction,
    fact_ttl: Duration,
    mut facts: Vec<Fact>,
) -> anyhow::Result<KeyChange> {
    let now = Utc::now();
    let rows = store::keys::all(txn).await?;
    let next = match rows.iter().find(|row| row.state() == KeyState::Next) {
        Some(row) => row.kid.clone(),
        None => {
            let row = new_key_row(now, None)?;
            let kid = row.kid.clone();
            store::keys::insert(txn, row).await?;
            kid
        }
    };
    store::keys::activate(txn, &next, now).await?;
    store::keys::retire_others(txn, &next, now).await?;
    store::keys::insert(txn, new_key_row(now, None)?).await?;
    facts.push(Fact::keys_changed(expiry(now, fact_ttl)));
    let last_fact_id = store::revocations::record(txn, &facts).await?;
    Ok(KeyChange {
        signing_kid: next,
        facts,
        last_fact_id,
    })
}

fn expiry(now: DateTime<Utc>, ttl: Duration) -> i64 {
    now.timestamp() + ttl.as_secs() as i64
}

/// Revokes a compromised key in one transaction: when it is the signing
/// key, rotation happens first; the key is unpublished, and `keyRevoked`
/// and `keysChanged` facts are recorded. `None` when no such key exists.
pub async fn revoke_in(
    db: &DatabaseConnection,
    kid: &str,
    fact_ttl: Duration,
) -> anyhow::Result<Option<KeyChange>> {
    let txn = db.begin().await?;
    store::keys::lock(&txn).await?;
    let rows = store::keys::all(&txn).await?;
    let Some(row) = rows.iter().find(|row| row.kid == kid) else {
        return Ok(None);
    };
    let now = Utc::now();
    let revoked = vec![Fact::key_revoked(kid, expiry(now, fact_ttl))];
    let state = row.state();
    store::keys::revoke(&txn, kid, now).await?;
    let change = if matches!(state, KeyState::Active | KeyState::Next) {
        rotate_locked(&txn, fact_ttl, revoked).await?
    } else {
        let mut facts = revoked;
        facts.push(Fact::keys_changed(expiry(now, fact_ttl)));
        let last_fact_id = store::revocations::record(&txn, &facts).await?;
        let signing_kid = rows
            .iter()
            .filter(|row| row.state() == KeyState::Active)
            .max_by_key(|row| row.activated_at)
            .map(|row| row.kid.clone())
            .unwrap_or_default();
        KeyChange {
            signing_kid,
            facts,
            last_fact_id,
        }
    };
    txn.commit().await?;
    Ok(Some(change))
}

#[async_trait]
impl KeyEvents for KeyRing {
    async fn keys_changed(&self) {
        if let Err(err) = self.reload().await {
            tracing::warn!(error = %err, "signing key reload failed");
        }
    }

    async fn key_revoked(&self, _kid: &str, _until: i64) {
        self.keys_changed().await;
    }
}

#[async_trait]
impl KeySource for KeyRing {
    async fn key(&self, kid: &str) -> Result<Option<Arc<DecodingKey>>, VerifyError> {
        Ok(self.current().verifying.get(kid).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_round_trip_and_thumbprint() {
        let pair = KeyPair::generate().unwrap();
        let again = KeyPair::from_pkcs8_der(&pair.pkcs8_der()).unwrap();
        assert_eq!(pair.public, again.public);
        assert_eq!(pair.thumbprint(), again.thumbprint());
        assert_eq!(pair.thumbprint().len(), 43);
        assert!(KeyPair::from_pkcs8_der(&[0u8; 48]).is_err());
    }

    #[test]
    fn retired_keys_stay_published_for_a_while() {
        let now = Utc::now();
        let then = now - chrono::Duration::hours(2);
        let mut old = new_key_row(then, Some(then)).unwrap();
        old.retired_at = Some(now - chrono::Duration::minutes(5));
        let long_ago = now - chrono::Duration::hours(3);
        let mut ancient = new_key_row(long_ago, Some(long_ago)).unwrap();
        ancient.retired_at = Some(now - chrono::Duration::hours(2));
        let mut compromised = new_key_row(then, Some(then)).unwrap();
        compromised.retired_at = Some(now - chrono::Duration::minutes(1));
        compromised.revoked_at = Some(now - chrono::Duration::minutes(1));
        let current = new_key_row(now, Some(now)).unwrap();
        let next = new_key_row(now, None).unwrap();
        let set = KeyRing::build(
            vec![
                ancient.clone(),
                old.clone(),
                compromised.clone(),
                current.clone(),
                next.clone(),
            ],
            Duration::from_secs(900),
            now,
        )
        .unwrap();
        assert_eq!(set.signer.kid, current.kid);
        assert!(set.verifying.contains_key(&old.kid));
        assert!(set.verifying.contains_key(&next.kid));
        assert!(!set.verifying.contains_key(&ancient.kid));
        assert!(!set.verifying.contains_key(&compromised.kid));
        assert_eq!(set.jwks["keys"].as_array().unwrap().len(), 3);
    }
}
