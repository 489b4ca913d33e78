//! Who is calling: bearer tokens (JWT, HS256) naming the caller's agency, unit and roles. Shared by the
//! agency services and the ledger API, which depend on this crate and never on each other.
//!
//! Tokens are signed and verified by `jsonwebtoken`, the algorithm pinned to HS256 (no `none`, no
//! algorithm switching), and `exp` is required. [`AuthLayer`] verifies every call once, at the edge, and
//! hands handlers the [`Caller`]; [`authorized`] adds the header on the client side. Keys come from
//! configuration; several may be given so a key can be rotated without a gap (tokens are signed with the
//! first, verified against all).

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use chrono::{DateTime, Utc};
use futures::future::{Either, Ready, ready};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use oneledger_domain::clock::legal_date;
use oneledger_domain::{Agency, UnitDirectory, UnitId};
use serde::{Deserialize, Serialize};
use tonic::metadata::{Ascii, MetadataValue};
use tower::{Layer, Service};

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

pub use oneledger_domain::Role;

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

    /// True when the caller reads the whole district, not one unit's share ([`Role::DISTRICT_WIDE`]).
    pub fn is_district_wide(&self) -> bool {
        Role::DISTRICT_WIDE.iter().any(|r| self.has(*r))
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
    /// The first key, which signs.
    encoding: EncodingKey,
    /// Every key, each of which verifies: an old key keeps verifying while tokens signed with it last.
    decoding: Vec<DecodingKey>,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKeys({} keys)", self.decoding.len())
    }
}

impl TokenKeys {
    /// Keys from configuration; the first signs. Each must be at least 32 bytes.
    pub fn new(keys: Vec<Vec<u8>>) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("at least one token key is needed".into());
        }
        if keys.iter().any(|k| k.len() < 32) {
            return Err("token keys must be at least 32 bytes".into());
        }
        let unusable = |e: jsonwebtoken::errors::Error| format!("token key unusable: {e}");
        let encoding = EncodingKey::from_secret(&keys[0]).map_err(unusable)?;
        let decoding = keys
            .iter()
            .map(|k| DecodingKey::from_secret(k))
            .collect::<Result<_, _>>()
            .map_err(unusable)?;
        Ok(TokenKeys { encoding, decoding })
    }

    /// A signed token for `claims`.
    pub fn mint(&self, claims: &Claims) -> String {
        // Claims are plain data and the key an HMAC secret: encoding cannot fail; an empty token (never
        // valid) is the impossible fallback.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .unwrap_or_default()
    }

    /// The caller a token names, if its signature and expiry hold at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Caller, AuthError> {
        let bad = |why: &str| AuthError::Unauthenticated(format!("invalid token: {why}"));
        if token.len() > MAX_TOKEN_BYTES {
            return Err(bad("too long"));
        }
        // The algorithm is pinned: a token saying `none`, or another algorithm, never verifies.
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against `now`, so tests and callers may verify at any instant.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp"]);
        let mut last = None;
        for key in &self.decoding {
            match jsonwebtoken::decode::<Claims>(token, key, &validation) {
                Ok(data) => return caller_of(data.claims, now),
                Err(e) if *e.kind() == ErrorKind::InvalidSignature => last = Some(e),
                Err(e) => return Err(bad(&reason(&e))),
            }
        }
        Err(bad(
            &last.map_or_else(|| "no key".to_owned(), |e| reason(&e))
        ))
    }
}

/// Why a token was refused, in words a caller can act on (never the token itself).
fn reason(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::InvalidSignature => "signature does not verify".into(),
        ErrorKind::InvalidAlgorithm => "algorithm must be HS256".into(),
        ErrorKind::InvalidToken => "not three dot-separated parts".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the {c} claim is required"),
        ErrorKind::Json(_) => "claims missing or malformed (sub, agency, unit, roles, exp)".into(),
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            "unreadable header, claims or signature".into()
        }
        _ => "unreadable".into(),
    }
}

fn caller_of(claims: Claims, now: DateTime<Utc>) -> Result<Caller, AuthError> {
    if now.timestamp() > claims.exp + LEEWAY_SECS {
        return Err(AuthError::Unauthenticated("token expired".into()));
    }
    if claims.unit.is_empty() || claims.sub.is_empty() {
        return Err(AuthError::Unauthenticated(
            "invalid token: sub and unit are required".into(),
        ));
    }
    Ok(Caller {
        subject: claims.sub,
        agency: claims.agency,
        unit: UnitId(claims.unit),
        roles: claims.roles,
    })
}

/// The server side of authentication, once at the edge: a tower layer that verifies the
/// `authorization: Bearer …` header of every call and puts the [`Caller`] into the request's extensions,
/// where handlers read it with [`caller`]. A call without a valid token never reaches a handler, except
/// health, reflection and the paths a server names as public (a petitioner's status query).
#[derive(Debug, Clone)]
pub struct AuthLayer {
    keys: TokenKeys,
    /// The district's units: a token naming a unit the directory does not list (or no longer) acts for no
    /// one, whoever signed it.
    directory: Arc<UnitDirectory>,
    public: Arc<[&'static str]>,
}

/// Calls every server answers without a token: health checks and reflection.
const OPEN_PREFIXES: [&str; 2] = ["/grpc.health.v1.", "/grpc.reflection."];

impl AuthLayer {
    /// Verifies against `keys` and `directory`; `public` lists the full method paths
    /// (`/pkg.Service/Method`) open to all.
    pub fn new(keys: TokenKeys, directory: Arc<UnitDirectory>, public: &[&'static str]) -> Self {
        AuthLayer {
            keys,
            directory,
            public: public.into(),
        }
    }

    fn is_open(&self, path: &str) -> bool {
        OPEN_PREFIXES.iter().any(|p| path.starts_with(p)) || self.public.contains(&path)
    }

    fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, AuthError> {
        let header = headers.get(http::header::AUTHORIZATION).ok_or_else(|| {
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
        let now = Utc::now();
        let caller = self.keys.verify(token.trim(), now)?;
        let today = legal_date(now);
        match self.directory.get(&caller.unit) {
            Some(unit) if unit.is_valid_on(today) => Ok(caller),
            Some(_) => Err(AuthError::PermissionDenied(format!(
                "the token's unit `{}` no longer exists in the district's directory",
                caller.unit
            ))),
            None => Err(AuthError::PermissionDenied(format!(
                "the token's unit `{}` is not in the district's directory",
                caller.unit
            ))),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Authenticated<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authenticated {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service behind [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct Authenticated<S> {
    inner: S,
    layer: AuthLayer,
}

impl<S, B, R> Service<http::Request<B>> for Authenticated<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    R: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<S::Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        if self.layer.is_open(request.uri().path()) {
            return Either::Left(self.inner.call(request));
        }
        match self.layer.authenticate(request.headers()) {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                Either::Left(self.inner.call(request))
            }
            Err(e) => Either::Right(ready(Ok(tonic::Status::from(e).into_http()))),
        }
    }
}

/// The verified caller of a request that passed [`AuthLayer`].
pub fn caller<T>(request: &tonic::Request<T>) -> Result<Caller, AuthError> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| AuthError::Unauthenticated("the call was not authenticated".into()))
}

/// `message` carrying `authorization: Bearer <token>`: how each of our clients (the CLI, the demo, the
/// bench, the tests) sends a token with a call; the demo acts as many units, so the token is per call. Refused when the token is not header text.
pub fn authorized<T>(message: T, token: &str) -> Result<tonic::Request<T>, AuthError> {
    let value: MetadataValue<Ascii> = format!("Bearer {}", token.trim())
        .parse()
        .map_err(|_| AuthError::Unauthenticated("a token is ASCII header text".into()))?;
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", value);
    Ok(request)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
    fn health_reflection_and_named_public_methods_are_open_and_nothing_else() {
        let layer = AuthLayer::new(keys(), Arc::default(), &["/pkg.Service/Public"]);
        assert!(layer.is_open("/grpc.health.v1.Health/Check"));
        assert!(layer.is_open("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"));
        assert!(layer.is_open("/pkg.Service/Public"));
        assert!(!layer.is_open("/pkg.Service/PublicNot"));
        assert!(!layer.is_open("/pkg.Service/Other"));
    }

    #[test]
    fn a_token_whose_unit_the_directory_does_not_list_or_no_longer_lists_is_denied() {
        let directory = Arc::new(UnitDirectory::binhai().unwrap());
        let layer = AuthLayer::new(keys(), directory, &[]);
        let header = |unit: &str| {
            let mut c = claims(Utc::now().timestamp() + 60);
            c.unit = unit.into();
            let mut headers = http::HeaderMap::new();
            let value = format!("Bearer {}", keys().mint(&c));
            headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
            headers
        };
        assert!(
            layer
                .authenticate(&header("binhai.petition_office"))
                .is_ok()
        );
        for (unit, reason) in [
            (
                "binhai.petiton_office",
                "is not in the district's directory",
            ),
            ("binhai.yujiapu_subdistrict", "no longer exists"),
        ] {
            match layer.authenticate(&header(unit)) {
                Err(AuthError::PermissionDenied(m)) => assert!(m.contains(reason), "{m}"),
                other => panic!("{unit}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_role_reads_back_from_its_name_as_tokens_spell_it() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert!("root".parse::<Role>().is_err());
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
