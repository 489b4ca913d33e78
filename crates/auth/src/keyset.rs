//! The issuer's public keys, read from a JWKS document (RFC 7517): each usable signing key by its `kid`,
//! with the one algorithm it verifies. A key's algorithm comes from the key set, never from a token, so
//! a token cannot choose how it is checked (no `none`, no HMAC with a public key as the secret).

use std::collections::HashMap;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Why a key set is not usable.
#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    /// Not a JWKS document.
    #[error("not a JWKS document (a JSON object with `keys`)")]
    Json(#[source] serde_json::Error),
    /// No key in it can verify a token.
    #[error("the JWKS holds no usable signing key (EdDSA Ed25519, ES256 P-256 or RS256, each with a kid){}", skipped_list(.0))]
    NoUsableKey(Vec<String>),
}

fn skipped_list(skipped: &[String]) -> String {
    if skipped.is_empty() {
        String::new()
    } else {
        format!("; skipped: {}", skipped.join("; "))
    }
}

/// One verifying key.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) algorithm: Algorithm,
    pub(crate) decoding: DecodingKey,
}

/// The usable keys of a JWKS, by `kid`.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, Key>,
    /// Why each unusable key was left out, for the operator.
    skipped: Vec<String>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.keys.keys().collect();
        kids.sort();
        f.debug_struct("KeySet").field("kids", &kids).finish()
    }
}

impl KeySet {
    /// The usable keys of a JWKS document; refused when none is.
    pub fn from_json(text: &str) -> Result<Self, KeySetError> {
        let set: JwkSet = serde_json::from_str(text).map_err(KeySetError::Json)?;
        Self::from_jwks(&set)
    }

    /// The usable keys of `set`; refused when none is.
    pub fn from_jwks(set: &JwkSet) -> Result<Self, KeySetError> {
        let mut keys = HashMap::new();
        let mut skipped = Vec::new();
        for (n, jwk) in set.keys.iter().enumerate() {
            let name = jwk
                .common
                .key_id
                .clone()
                .unwrap_or_else(|| format!("key {}", n + 1));
            match usable(jwk) {
                Ok((kid, key)) => {
                    keys.insert(kid, key);
                }
                Err(why) => skipped.push(format!("{name}: {why}")),
            }
        }
        if keys.is_empty() {
            return Err(KeySetError::NoUsableKey(skipped));
        }
        Ok(KeySet { keys, skipped })
    }

    /// The key a token's `kid` names.
    pub(crate) fn get(&self, kid: &str) -> Option<&Key> {
        self.keys.get(kid)
    }

    /// How many keys verify.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key verifies (only the empty set a verifier starts from before its first read).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Why keys of the document were left out.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }
}

/// The key's id and verifier, or why it cannot verify our tokens.
fn usable(jwk: &Jwk) -> Result<(String, Key), String> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return Err("not a signing key (use is not sig)".into());
    }
    let kid = jwk
        .common
        .key_id
        .clone()
        .filter(|k| !k.is_empty())
        .ok_or("no kid")?;
    // The algorithm the key's type implies; a stated `alg` must agree with it.
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::OctetKey(_) => {
            return Err("a symmetric key: an issuer's key set publishes public keys only".into());
        }
        _ => return Err("unsupported key type or curve".into()),
    };
    match jwk.common.key_algorithm {
        None => {}
        Some(stated) if KeyAlgorithm::from(algorithm) == stated => {}
        Some(stated) => return Err(format!("alg {stated:?} is not supported for this key type")),
    }
    let decoding = DecodingKey::from_jwk(jwk).map_err(|e| format!("unreadable key: {e}"))?;
    Ok((
        kid,
        Key {
            algorithm,
            decoding,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_set_keeps_signing_keys_with_a_kid_and_says_why_it_left_the_others_out() {
        // Given a set with an Ed25519 key, a key without kid, an HMAC secret and an encryption key.
        let text = r#"{"keys": [
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k1","alg":"EdDSA"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            {"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA","kid":"hmac"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"enc","use":"enc"},
            {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"liar","alg":"HS256"}
        ]}"#;
        // When it is read.
        let set = KeySet::from_json(text).unwrap();
        // Then only k1 verifies, and each other key is named with its reason.
        assert_eq!(set.len(), 1);
        assert!(set.get("k1").is_some());
        let skipped = set.skipped().join("\n");
        for why in [
            "key 2: no kid",
            "hmac: a symmetric key",
            "enc: not a signing key",
            "liar: alg",
        ] {
            assert!(skipped.contains(why), "{skipped}");
        }
    }

    #[test]
    fn a_key_set_with_no_usable_key_is_refused() {
        let only_secret = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"s"}]}"#;
        assert!(matches!(
            KeySet::from_json(only_secret),
            Err(KeySetError::NoUsableKey(_))
        ));
        assert!(matches!(KeySet::from_json("[]"), Err(KeySetError::Json(_))));
    }
}
