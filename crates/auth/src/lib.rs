//! Who is calling: bearer tokens (JWT, HS256) naming the caller's agency, unit and roles. Shared by the
//! agency services and the ledger API, which depend on this crate and never on each other.
//!
//! HS256 is verified here with HMAC-SHA256 in constant time; the header must say `HS256` (no `none`, no
//! algorithm switching), and `exp` is required. Keys come from configuration; several may be given so a
//! key can be rotated without a gap (tokens are signed with the first, verified against all).

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use oneledger_domain::{Agency, UnitId};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Why a caller is refused. gRPC: `UNAUTHENTICATED` and `PERMISSION_DENIED`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Missing, malformed, forged or expired credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Valid credentials without the right to do this.
    #[error("{0}")]
    PermissionDenied(String),
}

impl From<AuthError> for tonic::Status {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated(m) => tonic::Status::unauthenticated(m),
            AuthError::PermissionDenied(m) => tonic::Status::permission_denied(m),
        }
    }
}

/// Clock skew tolerated on `exp`, in seconds.
const LEEWAY_SECS: i64 = 30;
/// Longest token accepted; a real one is well under 1 KiB.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The roles of DESIGN §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registers and routes petitions.
    IntakeClerk,
    /// A unit's staff: accepts, handles, reports.
    Handler,
    /// A higher unit: review and re-review.
    Reviewer,
    /// The joint meeting office: supervision orders and escalation.
    Supervisor,
    /// The political-legal committee: screening, assignment, joint handling, links.
    Coordinator,
    /// A police officer.
    PoliceOfficer,
    /// Reads the ledger.
    Viewer,
    /// May read personal data, always audited.
    PiiReader,
    /// Reads the audit log.
    Auditor,
}

impl Role {
    /// The role's name in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::IntakeClerk => "intake_clerk",
            Role::Handler => "handler",
            Role::Reviewer => "reviewer",
            Role::Supervisor => "supervisor",
            Role::Coordinator => "coordinator",
            Role::PoliceOfficer => "police_officer",
            Role::Viewer => "viewer",
            Role::PiiReader => "pii_reader",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| format!("unknown role {s:?}"))
    }
}

/// The claims of a oneledger token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The person or system calling (an opaque id).
    pub sub: String,
    /// The agency whose system the caller is enrolled in.
    pub agency: Agency,
    /// The caller's unit.
    pub unit: String,
    /// The caller's roles.
    pub roles: Vec<Role>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    #[serde(default)]
    pub iat: i64,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who.
    pub subject: String,
    /// Enrolled agency.
    pub agency: Agency,
    /// Unit.
    pub unit: UnitId,
    /// Roles.
    pub roles: Vec<Role>,
}

impl Caller {
    /// True when the caller has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Refuses unless the caller has one of `roles`.
    pub fn require_any(&self, roles: &[Role], action: &str) -> Result<(), AuthError> {
        if roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else if roles.is_empty() {
            Err(AuthError::PermissionDenied(format!(
                "{action} is not taken through this service"
            )))
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(AuthError::PermissionDenied(format!(
                "{action} needs one of the roles {}",
                names.join(", ")
            )))
        }
    }

    /// Refuses a write to another agency's service.
    pub fn require_agency(&self, agency: Agency) -> Result<(), AuthError> {
        if self.agency == agency {
            Ok(())
        } else {
            Err(AuthError::PermissionDenied(format!(
                "a {} token cannot write to the {agency} service",
                self.agency
            )))
        }
    }

    /// The role recorded with the caller's events: the first of `preferred` the caller has.
    pub fn acting_role(&self, preferred: &[Role]) -> Role {
        preferred
            .iter()
            .copied()
            .find(|r| self.has(*r))
            .or_else(|| self.roles.first().copied())
            .unwrap_or(Role::Viewer)
    }
}

/// Signs and verifies tokens with shared HS256 keys.
#[derive(Clone)]
pub struct TokenKeys {
    keys: Vec<Vec<u8>>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKeys({} keys)", self.keys.len())
    }
}

type HmacSha256 = Hmac<Sha256>;

impl TokenKeys {
    /// Keys from configuration; the first signs. Each must be at least 32 bytes.
    pub fn new(keys: Vec<Vec<u8>>) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("at least one token key is needed".into());
        }
        if keys.iter().any(|k| k.len() < 32) {
            return Err("token keys must be at least 32 bytes".into());
        }
        Ok(TokenKeys { keys })
    }

    /// A signed token for `claims`.
    pub fn mint(&self, claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(self.sign(&self.keys[0], signing_input.as_bytes()));
        format!("{signing_input}.{signature}")
    }

    fn sign(&self, key: &[u8], input: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length; an empty signature (never valid) is the impossible fallback.
        match <HmacSha256 as KeyInit>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(input);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }

    /// The caller a token names, if its signature and expiry hold at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Caller, AuthError> {
        let bad = |why: &str| AuthError::Unauthenticated(format!("invalid token: {why}"));
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad("too long"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("not three dot-separated parts"));
        };
        let header: serde_json::Value = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|h| serde_json::from_slice(&h).ok())
            .ok_or_else(|| bad("unreadable header"))?;
        if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
            return Err(bad("algorithm must be HS256"));
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| bad("unreadable signature"))?;
        let signing_input = &token[..header_len(token)];
        let valid = self.keys.iter().any(|key| {
            let mut mac = match <HmacSha256 as KeyInit>::new_from_slice(key) {
                Ok(mac) => mac,
                Err(_) => return false,
            };
            mac.update(signing_input.as_bytes());
            mac.verify_slice(&signature).is_ok()
        });
        if !valid {
            return Err(bad("signature does not verify"));
        }
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or_else(|| bad("claims missing or malformed (sub, agency, unit, roles, exp)"))?;
        if now.timestamp() > claims.exp + LEEWAY_SECS {
            return Err(AuthError::Unauthenticated("token expired".into()));
        }
        if claims.unit.is_empty() || claims.sub.is_empty() {
            return Err(bad("sub and unit are required"));
        }
        Ok(Caller {
            subject: claims.sub,
            agency: claims.agency,
            unit: UnitId(claims.unit),
            roles: claims.roles,
        })
    }

    /// The caller of a gRPC request, from its `authorization: Bearer …` header.
    pub fn caller<T>(&self, request: &tonic::Request<T>) -> Result<Caller, AuthError> {
        let header = request.metadata().get("authorization").ok_or_else(|| {
            AuthError::Unauthenticated("missing authorization: Bearer <token>".into())
        })?;
        let value = header
            .to_str()
            .map_err(|_| AuthError::Unauthenticated("authorization header is not text".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| {
                AuthError::Unauthenticated("authorization must be a Bearer token".into())
            })?;
        self.verify(token.trim(), Utc::now())
    }
}

/// Length of `header.payload` in a token already known to have three parts.
fn header_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(vec![b"0123456789abcdef0123456789abcdef".to_vec()]).unwrap()
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "clerk-1".into(),
            agency: Agency::Petition,
            unit: "binhai.petition_office".into(),
            roles: vec![Role::IntakeClerk],
            exp,
            iat: 0,
        }
    }

    #[test]
    fn a_minted_token_verifies_until_it_expires() {
        let now = Utc::now();
        let token = keys().mint(&claims(now.timestamp() + 60));
        let caller = keys().verify(&token, now).unwrap();
        assert_eq!(caller.unit, UnitId::from("binhai.petition_office"));
        assert!(caller.has(Role::IntakeClerk));
        let later = now + chrono::Duration::seconds(200);
        assert!(
            matches!(keys().verify(&token, later), Err(AuthError::Unauthenticated(m)) if m.contains("expired"))
        );
    }

    #[test]
    fn tampered_foreign_and_unsigned_tokens_are_refused() {
        let now = Utc::now();
        let token = keys().mint(&claims(now.timestamp() + 60));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":"x","agency":"petition","unit":"u","roles":["pii_reader"],"exp":9999999999}"#);
        parts[1] = &forged;
        assert!(keys().verify(&parts.join("."), now).is_err());
        let other = TokenKeys::new(vec![b"another-key-another-key-another-k".to_vec()]).unwrap();
        assert!(other.verify(&token, now).is_err());
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            token.split('.').nth(1).unwrap()
        );
        assert!(keys().verify(&none, now).is_err());
        assert!(keys().verify("garbage", now).is_err());
        assert!(TokenKeys::new(vec![b"short".to_vec()]).is_err());
    }

    #[test]
    fn rotated_keys_verify_old_tokens() {
        let now = Utc::now();
        let old = keys().mint(&claims(now.timestamp() + 60));
        let rotated = TokenKeys::new(vec![
            b"new-key-new-key-new-key-new-key-!".to_vec(),
            b"0123456789abcdef0123456789abcdef".to_vec(),
        ])
        .unwrap();
        assert!(rotated.verify(&old, now).is_ok());
    }
}
