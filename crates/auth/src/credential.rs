//! Where a process of ours gets the token it calls another part with (the deadline watcher reading the
//! ledger): from the identity provider, as a file the platform keeps fresh (a Kubernetes projected token,
//! a sidecar's output), or, in `up`, from the dev issuer. The process itself never signs one.

use std::path::PathBuf;

use crate::AuthError;

/// A token to call with, fresh on every ask.
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// The token to send now.
    fn token(&self) -> Result<String, AuthError>;
}

/// A token kept in a file and re-read on every ask, so the platform may replace it before it expires.
#[derive(Debug, Clone)]
pub struct TokenFile {
    /// The file.
    pub path: PathBuf,
}

impl TokenSource for TokenFile {
    fn token(&self) -> Result<String, AuthError> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| {
            AuthError::Unauthenticated(format!(
                "reading the token file {}: {e}",
                self.path.display()
            ))
        })?;
        match text.trim() {
            "" => Err(AuthError::Unauthenticated(format!(
                "the token file {} is empty",
                self.path.display()
            ))),
            token => Ok(token.to_owned()),
        }
    }
}
