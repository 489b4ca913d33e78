//! Checking a token: signed by one of the issuer's keys (by `kid`, with that key's algorithm), issued by
//! the configured issuer for the configured audience and district, and inside its lifetime at `now`.
//! Services and the ledger hold a [`Verifier`] only: nothing they run can sign a token.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Validation, decode, decode_header};
use oneledger_domain::UnitId;
use oneledger_proto::convert::bounded;
use tokio_util::sync::CancellationToken;

use crate::claims::Claims;
use crate::keyset::{KeySet, KeySetError};
use crate::{AuthError, Caller};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: i64 = 30;
/// Longest token accepted; a real one is well under 2 KiB.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What every token must say to act here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The issuer (`iss`), exactly: an OIDC provider's issuer URL, or the dev issuer's name.
    pub issuer: String,
    /// The audience (`aud`) the token must include.
    pub audience: String,
    /// The district (`district`) this deployment serves.
    pub district: String,
}

/// Why a verifier could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    /// The JWKS file could not be read.
    #[error("reading the JWKS file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The JWKS holds no usable key.
    #[error("the JWKS file {path}")]
    Keys {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: KeySetError,
    },
}

/// Verifies tokens against the issuer's current key set, which a background task may replace (key
/// rotation) while calls are verified.
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: Arc<RwLock<KeySet>>,
    expected: Arc<Expected>,
}

impl Verifier {
    /// A verifier of `keys`' tokens that meet `expected`.
    pub fn new(keys: KeySet, expected: Expected) -> Self {
        Verifier {
            keys: Arc::new(RwLock::new(keys)),
            expected: Arc::new(expected),
        }
    }

    /// A verifier of the key set in the JWKS file at `path`; refused when it holds no usable key.
    pub fn from_jwks_file(path: &Path, expected: Expected) -> Result<Self, VerifierError> {
        Ok(Self::new(read_jwks_file(path)?, expected))
    }

    /// What tokens must say.
    pub fn expected(&self) -> &Expected {
        &self.expected
    }

    /// Puts `keys` in place of the current set, for tokens verified from now on.
    pub fn replace_keys(&self, keys: KeySet) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }

    /// Reads the JWKS file at `path` again whenever it changes, every `every`, until `stop`: an issuer's
    /// new key is trusted once the file lists it, a retired one no longer once the file drops it. A file
    /// that becomes unreadable or holds no usable key leaves the last good set in place (and says so).
    pub async fn follow_jwks_file(self, path: PathBuf, every: Duration, stop: CancellationToken) {
        // Read again at the first look: the file may have changed since the verifier was made.
        let mut seen = None;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            let now = modified(&path);
            if now == seen {
                continue;
            }
            match read_jwks_file(&path) {
                Ok(keys) => {
                    tracing::info!(path = %path.display(), keys = keys.len(), skipped = ?keys.skipped(), "token keys re-read");
                    self.replace_keys(keys);
                    seen = now;
                }
                Err(e) => {
                    tracing::warn!(error = %error_chain(&e), "the JWKS file changed but is not usable; keeping the last good keys");
                }
            }
        }
    }

    /// The caller a token names, if it verifies and meets [`Expected`] at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Caller, AuthError> {
        let bad = |why: String| AuthError::Unauthenticated(format!("invalid token: {why}"));
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad("too long".into()));
        }
        let header = decode_header(token).map_err(|e| bad(reason(&e, "")))?;
        let kid = header
            .kid
            .ok_or_else(|| bad("the header names no signing key (kid)".into()))?;
        let key = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&kid)
            .cloned()
            .ok_or_else(|| {
                bad(format!(
                    "signed with key `{}`, which the issuer's key set does not hold",
                    bounded(&kid)
                ))
            })?;
        // The key's own algorithm, whatever the header says: a token cannot pick how it is checked.
        let mut validation = Validation::new(key.algorithm);
        // Times are checked below against `now`, so tests and callers may verify at any instant.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.expected.issuer]);
        validation.set_audience(&[&self.expected.audience]);
        let algorithm = format!("{:?}", key.algorithm);
        let claims = decode::<Claims>(token, &key.decoding, &validation)
            .map_err(|e| bad(reason(&e, &algorithm)))?
            .claims;
        self.caller_of(claims, now)
    }

    fn caller_of(&self, claims: Claims, now: DateTime<Utc>) -> Result<Caller, AuthError> {
        let now = now.timestamp();
        let bad = |why: &str| Err(AuthError::Unauthenticated(format!("invalid token: {why}")));
        if now > claims.exp.saturating_add(LEEWAY_SECS) {
            return Err(AuthError::Unauthenticated("token expired".into()));
        }
        if claims.iat > now.saturating_add(LEEWAY_SECS) {
            return bad("issued in the future (iat)");
        }
        if claims.exp <= claims.iat {
            return bad("expires before it was issued (exp is not after iat)");
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECS))
        {
            return bad("not valid yet (nbf)");
        }
        if claims.district != self.expected.district {
            return bad("issued for another district");
        }
        if claims.unit.is_empty() || claims.sub.is_empty() {
            return bad("sub and unit are required");
        }
        Ok(Caller {
            subject: claims.sub,
            agency: claims.agency,
            unit: UnitId(claims.unit),
            roles: claims.roles,
        })
    }
}

fn read_jwks_file(path: &Path) -> Result<KeySet, VerifierError> {
    let text = std::fs::read_to_string(path).map_err(|source| VerifierError::Read {
        path: path.to_owned(),
        source,
    })?;
    KeySet::from_json(&text).map_err(|source| VerifierError::Keys {
        path: path.to_owned(),
        source,
    })
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// An error and its sources, for the operator's log.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Why a token was refused, in words a caller can act on (never the token itself).
fn reason(e: &jsonwebtoken::errors::Error, algorithm: &str) -> String {
    match e.kind() {
        ErrorKind::InvalidSignature => "signature does not verify".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidKeyFormat => {
            format!("the key it names verifies {algorithm} signatures only")
        }
        ErrorKind::InvalidToken => "not three dot-separated parts".into(),
        ErrorKind::InvalidAlgorithmName => "the header names an unknown algorithm".into(),
        ErrorKind::InvalidIssuer => "issued by another issuer (iss)".into(),
        ErrorKind::InvalidAudience => "not meant for this audience (aud)".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the {c} claim is required"),
        ErrorKind::Json(j) if j.to_string().starts_with("missing field") => {
            format!("claims incomplete: {}", bounded(&j.to_string()))
        }
        ErrorKind::Json(_) => {
            "claims malformed (iss, sub, aud, district, agency, unit, roles, exp, iat)".into()
        }
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            "unreadable header, claims or signature".into()
        }
        _ => "unreadable".into(),
    }
}
