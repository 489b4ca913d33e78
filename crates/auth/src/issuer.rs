//! The development issuer: what `oneledger up`, `oneledger token`, the demo and the tests sign tokens
//! with, so a first look needs no identity provider. Its Ed25519 key is generated once into the data
//! directory as a PKCS#8 PEM file; its public half is the JWKS the services verify against, exactly as
//! they verify a district's identity provider's. A deployment with a real provider has no dev issuer.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, KeypairBytes};
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oneledger_domain::{Agency, Role};

use crate::claims::{Audience, Claims, DEFAULT_AUDIENCE};
use crate::keyset::KeySet;
use crate::verifier::{Expected, Verifier};
use crate::{AuthError, TokenSource};

/// The issuer (`iss`) of the dev issuer's tokens.
pub const DEV_ISSUER: &str = "oneledger-dev";

/// Why the dev issuer could not be loaded or sign.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// The key file could not be read or written.
    #[error("{what} {path}")]
    Io {
        /// Reading or writing.
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key is not an Ed25519 PKCS#8 PEM private key.
    #[error("the signing key is not an Ed25519 PKCS#8 PEM private key")]
    Key(#[source] jsonwebtoken::errors::Error),
    /// No randomness for a new key.
    #[error("no randomness for a new signing key: {0}")]
    Random(String),
    /// Its own key set is unusable (never, for a key it read).
    #[error("the issuer's key set")]
    Keys(#[source] crate::keyset::KeySetError),
    /// Signing failed.
    #[error("signing a token")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

/// Signs tokens for one district with one Ed25519 key.
#[derive(Clone)]
pub struct DevIssuer {
    key: EncodingKey,
    /// The public key, as the JWKS lists it.
    jwk: Jwk,
    /// The key's id: its RFC 7638 thumbprint, so the same key always has the same id.
    kid: String,
    expected: Expected,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("kid", &self.kid)
            .field("expected", &self.expected)
            .finish()
    }
}

impl DevIssuer {
    /// A new key, in memory (tests, benchmarks).
    pub fn generate(district: &str) -> Result<Self, IssuerError> {
        Self::from_pem(new_key_pem()?.as_bytes(), district)
    }

    /// The issuer of the PKCS#8 PEM private key `pem`.
    pub fn from_pem(pem: &[u8], district: &str) -> Result<Self, IssuerError> {
        let key = EncodingKey::from_ed_pem(pem).map_err(IssuerError::Key)?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::EdDSA).map_err(IssuerError::Key)?;
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(IssuerError::Key)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        Ok(DevIssuer {
            key,
            jwk,
            kid,
            expected: Expected {
                issuer: DEV_ISSUER.into(),
                audience: DEFAULT_AUDIENCE.into(),
                district: district.into(),
            },
        })
    }

    /// The issuer whose key is the file at `path`, generated there (readable by its owner only) the first
    /// time.
    pub fn load_or_create(path: &Path, district: &str) -> Result<Self, IssuerError> {
        let io = |what, source| IssuerError::Io {
            what,
            path: path.to_owned(),
            source,
        };
        if !path.exists() {
            write_private(path, new_key_pem()?.as_bytes()).map_err(|e| io("writing", e))?;
        }
        let pem = std::fs::read(path).map_err(|e| io("reading", e))?;
        Self::from_pem(&pem, district)
    }

    /// The public key set to verify this issuer's tokens with.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    /// What its tokens say (issuer, audience, district).
    pub fn expected(&self) -> &Expected {
        &self.expected
    }

    /// A verifier of this issuer's tokens alone.
    pub fn verifier(&self) -> Result<Verifier, IssuerError> {
        let keys = KeySet::from_jwks(&self.jwks()).map_err(IssuerError::Keys)?;
        Ok(Verifier::new(keys, self.expected.clone()))
    }

    /// The claims of a token for `sub` of `unit` in `agency` with `roles`, valid for `ttl` from now.
    pub fn claims(
        &self,
        sub: &str,
        agency: Agency,
        unit: &str,
        roles: &[Role],
        ttl: Duration,
    ) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            iss: self.expected.issuer.clone(),
            sub: sub.into(),
            aud: Audience::One(self.expected.audience.clone()),
            district: self.expected.district.clone(),
            agency,
            unit: unit.into(),
            roles: roles.to_vec(),
            exp: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            iat: now,
            nbf: None,
        }
    }

    /// `claims`, signed.
    pub fn sign(&self, claims: &Claims) -> Result<String, IssuerError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(IssuerError::Sign)
    }

    /// A signed token for `sub` of `unit` in `agency` with `roles`, valid for `ttl`.
    pub fn token(
        &self,
        sub: &str,
        agency: Agency,
        unit: &str,
        roles: &[Role],
        ttl: Duration,
    ) -> Result<String, IssuerError> {
        self.sign(&self.claims(sub, agency, unit, roles, ttl))
    }

    /// The private key, for tests that sign what the issuer itself would not (a forged header).
    #[cfg(test)]
    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.key
    }

    /// A source of fresh five-minute tokens for one caller (`up`'s deadline watcher).
    pub fn source(
        self,
        sub: &str,
        agency: Agency,
        unit: &str,
        roles: &[Role],
    ) -> Arc<dyn TokenSource> {
        Arc::new(Issued {
            issuer: self,
            sub: sub.into(),
            agency,
            unit: unit.into(),
            roles: roles.to_vec(),
        })
    }
}

/// Tokens the dev issuer signs on demand for one caller.
#[derive(Debug)]
struct Issued {
    issuer: DevIssuer,
    sub: String,
    agency: Agency,
    unit: String,
    roles: Vec<Role>,
}

impl TokenSource for Issued {
    fn token(&self) -> Result<String, AuthError> {
        let ttl = Duration::from_secs(300);
        self.issuer
            .token(&self.sub, self.agency, &self.unit, &self.roles, ttl)
            .map_err(|e| AuthError::Unauthenticated(e.to_string()))
    }
}

fn new_key_pem() -> Result<String, IssuerError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| IssuerError::Random(e.to_string()))?;
    // PKCS#8 v1, the seed alone (what `openssl genpkey -algorithm ed25519` writes too).
    let pair = KeypairBytes {
        secret_key: seed,
        public_key: None,
    };
    let pem = pair
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| IssuerError::Random(format!("encoding the key: {e}")))?;
    Ok(pem.to_string())
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}
