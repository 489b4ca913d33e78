//! Who is calling: bearer tokens (JWT) an issuer signs with an asymmetric key — EdDSA, ES256 or RS256 —
//! naming the caller's district, agency, unit and roles, verified against the issuer's published key set
//! (JWKS). Shared by the agency services and the ledger API, which depend on this crate and never on each
//! other, and which only ever verify.
//!
//! - [`claims`]: what a token says, the registered claims and the district's own;
//! - [`keyset`]: the issuer's public keys, each with the one algorithm it verifies;
//! - [`verifier`]: the checks a token passes (key, signature, issuer, audience, district, lifetime);
//! - [`issuer`]: the development issuer `up`, `token`, the demo and the tests sign with;
//! - [`credential`]: where a process of ours gets the token it calls another part with.
//!
//! [`AuthLayer`] verifies every call once, at the edge, and hands handlers the [`Caller`]; [`authorized`]
//! adds the header on the client side.

pub mod claims;
pub mod credential;
pub mod issuer;
pub mod keyset;
pub mod verifier;

use std::sync::Arc;
use std::task::{Context, Poll};

use chrono::Utc;
use futures::future::{Either, Ready, ready};
use oneledger_domain::clock::legal_date;
use oneledger_domain::{Agency, UnitDirectory, UnitId};
use oneledger_proto::convert::bounded;
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

pub use claims::{Audience, Claims, DEFAULT_AUDIENCE};
pub use credential::{TokenFile, TokenSource};
pub use issuer::{DEV_ISSUER, DevIssuer, IssuerError};
pub use keyset::{KeySet, KeySetError};
pub use oneledger_domain::Role;
pub use verifier::{Expected, Verifier, VerifierError};

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

/// The server side of authentication, once at the edge: a tower layer that verifies the
/// `authorization: Bearer …` header of every call and puts the [`Caller`] into the request's extensions,
/// where handlers read it with [`caller`]. A call without a valid token never reaches a handler, except
/// health, reflection and the paths a server names as public (a petitioner's status query).
#[derive(Debug, Clone)]
pub struct AuthLayer {
    verifier: Verifier,
    /// The district's units: a token naming a unit the directory does not list (or no longer) acts for no
    /// one, whoever signed it.
    directory: Arc<UnitDirectory>,
    public: Arc<[&'static str]>,
}

/// Calls every server answers without a token: health checks and reflection.
const OPEN_PREFIXES: [&str; 2] = ["/grpc.health.v1.", "/grpc.reflection."];

impl AuthLayer {
    /// Verifies with `verifier` and against `directory`; `public` lists the full method paths
    /// (`/pkg.Service/Method`) open to all.
    pub fn new(verifier: Verifier, directory: Arc<UnitDirectory>, public: &[&'static str]) -> Self {
        AuthLayer {
            verifier,
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
        let caller = self.verifier.verify(token.trim(), now)?;
        let today = legal_date(now);
        match self.directory.get(&caller.unit) {
            Some(unit) if unit.is_valid_on(today) => Ok(caller),
            Some(_) => Err(AuthError::PermissionDenied(format!(
                "the token's unit `{}` no longer exists in the district's directory",
                bounded(&caller.unit.0)
            ))),
            None => Err(AuthError::PermissionDenied(format!(
                "the token's unit `{}` is not in the district's directory",
                bounded(&caller.unit.0)
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
mod tests;
