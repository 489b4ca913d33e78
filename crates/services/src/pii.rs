//! Personal data (PIPL, DESIGN §5): sealed under a per-person data key before it reaches an event, the key
//! kept in the petition store wrapped by a master key. Erasure destroys the key, so every sealed field of
//! that person — in events, on NATS, in backups — can never be read again (crypto-shredding).

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use oneledger_store::{PersonKey, PersonVault};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ServiceError;

/// Bytes of a data key and of the master key (AES-256).
pub const KEY_BYTES: usize = 32;
/// Bytes of an AES-GCM nonce.
const NONCE_BYTES: usize = 12;

/// What a person's personal data is: sealed as one JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Identity {
    /// Full name.
    pub name: String,
    /// Identity card number.
    pub id_number: String,
    /// Telephone.
    pub phone: String,
    /// Address.
    pub address: String,
}

/// Events of a person's stream in the petition store; they carry sealed data only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PersonEvent {
    /// Personal data given with a petition.
    DataRecorded {
        /// When.
        at: DateTime<Utc>,
        /// The person.
        person_ref: String,
        /// The matter it was given for.
        matter_id: String,
        /// The accused unit when the matter is an accusation: it may never read this data.
        accused_unit: Option<String>,
        /// The sealed [`Identity`].
        sealed_identity: String,
        /// The sealed narrative, when this person gave one.
        sealed_narrative: Option<String>,
    },
    /// The person's data key was destroyed; nothing personal is in this event.
    DataErased {
        /// When.
        at: DateTime<Utc>,
        /// The person.
        person_ref: String,
    },
}

impl PersonEvent {
    /// `petition.person.<name>`.
    pub fn event_type(&self) -> &'static str {
        match self {
            PersonEvent::DataRecorded { .. } => "petition.person.data_recorded",
            PersonEvent::DataErased { .. } => "petition.person.data_erased",
        }
    }
}

/// Seals and opens personal data.
#[derive(Clone)]
pub struct Vault {
    master: Aes256Gcm,
    code_key: Vec<u8>,
    store: Arc<dyn PersonVault>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault")
    }
}

/// A person's data key, unwrapped, for one call.
pub struct DataKey(Aes256Gcm);

fn random<const N: usize>() -> Result<[u8; N], ServiceError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| ServiceError::Internal(format!("no randomness: {e}")))?;
    Ok(buf)
}

fn seal_with(cipher: &Aes256Gcm, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, ServiceError> {
    let nonce_bytes = random::<NONCE_BYTES>()?;
    let nonce = Nonce::from(nonce_bytes);
    let mut out = nonce_bytes.to_vec();
    out.extend(
        cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| ServiceError::Internal("encryption failed".into()))?,
    );
    Ok(out)
}

fn open_with(cipher: &Aes256Gcm, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, ServiceError> {
    if sealed.len() < NONCE_BYTES {
        return Err(ServiceError::Internal("sealed data too short".into()));
    }
    let (nonce, ct) = sealed.split_at(NONCE_BYTES);
    let nonce = Nonce::try_from(nonce).map_err(|_| ServiceError::Internal("bad nonce".into()))?;
    cipher
        .decrypt(&nonce, Payload { msg: ct, aad })
        .map_err(|_| {
            ServiceError::Internal("sealed data does not open (wrong key or tampered)".into())
        })
}

impl Vault {
    /// A vault with the 32-byte master key, over the petition store.
    pub fn new(master_key: &[u8], store: Arc<dyn PersonVault>) -> Result<Self, String> {
        if master_key.len() != KEY_BYTES {
            return Err(format!("the master key must be {KEY_BYTES} bytes"));
        }
        let master =
            Aes256Gcm::new_from_slice(master_key).map_err(|_| "bad master key".to_owned())?;
        // Query codes are derived under a key of their own, separated from the wrapping key by a label.
        let code_key =
            Sha256::digest([b"oneledger query codes\0".as_slice(), master_key].concat()).to_vec();
        Ok(Vault {
            master,
            code_key,
            store,
        })
    }

    /// The data key of `person_ref`, made and stored when the person is new; `None` when erased.
    pub async fn key_for_new_data(
        &self,
        person_ref: &str,
    ) -> Result<Option<DataKey>, ServiceError> {
        if let PersonKey::Missing = self.store.person_key(person_ref).await? {
            let key = random::<KEY_BYTES>()?;
            let wrapped = seal_with(&self.master, person_ref.as_bytes(), &key)?;
            self.store.put_person_key(person_ref, &wrapped).await?;
        }
        self.key(person_ref).await
    }

    /// The data key of `person_ref`; `None` when it never existed or was erased.
    pub async fn key(&self, person_ref: &str) -> Result<Option<DataKey>, ServiceError> {
        match self.store.person_key(person_ref).await? {
            PersonKey::Wrapped(wrapped) => {
                let key = open_with(&self.master, person_ref.as_bytes(), &wrapped)?;
                Ok(Some(DataKey(Aes256Gcm::new_from_slice(&key).map_err(
                    |_| ServiceError::Internal("bad data key".into()),
                )?)))
            }
            PersonKey::Missing | PersonKey::Erased(_) => Ok(None),
        }
    }

    /// Seals `plaintext` for `person_ref` (bound to the person as associated data), as base64.
    pub fn seal(
        &self,
        key: &DataKey,
        person_ref: &str,
        plaintext: &[u8],
    ) -> Result<String, ServiceError> {
        Ok(STANDARD.encode(seal_with(&key.0, person_ref.as_bytes(), plaintext)?))
    }

    /// Opens what [`seal`](Self::seal) sealed.
    pub fn open(
        &self,
        key: &DataKey,
        person_ref: &str,
        sealed: &str,
    ) -> Result<Vec<u8>, ServiceError> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| ServiceError::Internal("sealed data is not base64".into()))?;
        open_with(&key.0, person_ref.as_bytes(), &bytes)
    }

    /// The petitioner's query code for a matter: unguessable without the master key, and the same on
    /// every retry of the registration, so it need not be stored (only its digest is, in the matter).
    pub fn query_code(&self, matter_id: &str) -> Result<String, ServiceError> {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.code_key)
            .map_err(|_| ServiceError::Internal("query code key rejected".into()))?;
        mac.update(matter_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        // 16 characters of a 32-letter alphabet without look-alikes: 80 bits.
        const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        Ok(digest
            .iter()
            .take(16)
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect())
    }
}

/// The digest of a query code as the matter records it.
pub fn query_code_digest(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().to_uppercase().as_bytes()))
}

/// Compares two digests in constant time.
pub fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
