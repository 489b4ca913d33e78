//! What a oneledger token says: the registered claims every token must carry (RFC 7519) and the
//! district's own — district, agency, unit, roles — which an identity provider adds with claim mappers.

use oneledger_domain::{Agency, Role};
use serde::{Deserialize, Serialize};

/// The audience tokens for oneledger name unless a deployment configures another.
pub const DEFAULT_AUDIENCE: &str = "oneledger";

/// A token's audience: one name or several, as RFC 7519 allows either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

/// The claims of a oneledger token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Who issued it: compared with the configured issuer exactly.
    pub iss: String,
    /// The person or system calling (an opaque id of the issuer's).
    pub sub: String,
    /// Whom it is for: must include the configured audience.
    pub aud: Audience,
    /// The district it acts in: a token of another district's oneledger acts in no other.
    pub district: String,
    /// The agency whose system the caller is enrolled in.
    pub agency: Agency,
    /// The caller's unit, as the district's directory names it.
    pub unit: String,
    /// The caller's roles.
    pub roles: Vec<Role>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch: required, and never in the future.
    pub iat: i64,
    /// Not before, seconds since the epoch, when the issuer sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}
