//! The guest side of federation (spec §11): a `DSFanoutRequest` from a
//! group's owning DS, checked in the order the spec fixes and stored whole or
//! not at all as a replica of the entries this DS's clients may see. Fetching
//! the sender's keys is the caller's (it owns the network); this module only
//! decides and stores.

use std::collections::{BTreeMap, BTreeSet};

use ds_core::federation::verify_fanout_signature;
use ds_core::wire::{
    Domain, DsError, DsErrorCode, DsFanoutEntry, DsFanoutRecipient, DsFanoutRequest,
    DsFanoutResponseBody, DsSigningKey, FanoutEntryKind,
};
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::types::HashType;
use tracing::Instrument;

use super::DsService;
use super::errors::internal;
use crate::http::metrics::result_name;
use crate::storage::{ReplicaEntry, ReplicaKind, StorageError, Timestamp};

/// Counter of fan-out requests received, labelled `result`: `ok` or the
/// refusal's error code name.
pub const FANOUT_RECEIVED_TOTAL: &str = "mimi_ds_fanout_received_total";

/// Counter of entries of accepted fan-outs, labelled `outcome`: `applied`
/// or `duplicate` (stored before).
pub const FANOUT_ENTRIES_TOTAL: &str = "mimi_ds_fanout_entries_total";

/// Counter of fan-out recipients of this domain that are not registered here
/// (deleted clients), left out of the stored entries; labelled `sender`.
pub const FANOUT_UNKNOWN_RECIPIENTS_TOTAL: &str = "mimi_ds_fanout_unknown_recipients_total";

/// Where the guest DS gets a sender's published signing keys (the caller's
/// cache over `ds_signature_public_key`). A trait rather than a closure so
/// that the returned future is known to be `Send`, as a server needs.
pub trait SenderKeys: Sync {
    /// The keys `domain` publishes, fetched again if none has id `key_id`;
    /// `PeerUnavailable` when they cannot be obtained.
    fn keys(
        &self,
        domain: &Domain,
        key_id: &[u8],
    ) -> impl Future<Output = Result<Vec<DsSigningKey>, DsError>> + Send;
}

/// A fixed list of keys (tests, or keys configured by hand).
impl SenderKeys for Vec<DsSigningKey> {
    async fn keys(&self, _: &Domain, _: &[u8]) -> Result<Vec<DsSigningKey>, DsError> {
        Ok(self.clone())
    }
}

impl DsService {
    /// Answers a fan-out from another DS: `fanout_ok` once every entry is
    /// stored (or already was), else `fanout_error` with the first failed
    /// check, and then nothing is stored. `sender_keys` gives the sender's
    /// published keys. Local push listeners of the recipients are woken
    /// after the commit.
    pub async fn receive_fanout<K: SenderKeys>(
        &self,
        request: &DsFanoutRequest,
        sender_keys: &K,
    ) -> DsFanoutResponseBody {
        let span = tracing::info_span!(
            "fanout",
            sender = %request.sender,
            entries = request.entries.len(),
        );
        async move {
            let result = self.accept_fanout(request, sender_keys).await;
            let code = result.as_ref().err().map(|error| error.code);
            metrics::counter!(FANOUT_RECEIVED_TOTAL, "result" => result_name(code)).increment(1);
            match result {
                Ok(()) => DsFanoutResponseBody::Ok,
                Err(error) => {
                    tracing::debug!(%error, "fan-out refused");
                    DsFanoutResponseBody::Error(error)
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn accept_fanout<K: SenderKeys>(
        &self,
        request: &DsFanoutRequest,
        sender_keys: &K,
    ) -> Result<(), DsError> {
        let own = self.inner.ctx.domain();
        let now = Timestamp::now();
        check_envelope(
            request,
            own,
            now.unix_secs(),
            self.options().freshness_window.as_secs(),
        )?;
        let keys = sender_keys
            .keys(&request.sender, request.key_id.as_slice())
            .await?;
        verify_fanout_signature(request, &keys, now.unix_secs())?;
        check_groups(request)?;
        let gone = self.unknown_recipients(request, own).await?;
        let entries = self.replica_entries(request, &gone)?;

        let outcome = match self
            .inner
            .store
            .apply_fanout(request.sender.as_str(), &entries, now)
            .await
        {
            Ok(outcome) => outcome,
            Err(StorageError::ConflictingEntry { group_id, seq }) => {
                return Err(DsError::new(
                    DsErrorCode::ConflictingEntry,
                    format!("{group_id} already has a different entry {seq}"),
                ));
            }
            Err(e) => return Err(internal(e)),
        };
        // Only after the commit: push feeds re-read what is now stored.
        self.notifier()
            .wake_clients(outcome.wake.iter().map(String::as_str));
        metrics::counter!(FANOUT_ENTRIES_TOTAL, "outcome" => "applied").increment(outcome.applied);
        metrics::counter!(FANOUT_ENTRIES_TOTAL, "outcome" => "duplicate")
            .increment(outcome.duplicates);
        tracing::debug!(
            applied = outcome.applied,
            duplicates = outcome.duplicates,
            "fan-out stored"
        );
        Ok(())
    }

    /// Every recipient is a client of this DS's domain (`NotLocalRecipient`
    /// otherwise); returns those that are not registered here (deleted, or
    /// never registered), which have no queue to store for: one storage read
    /// for all of them. They are left out rather than refused, so that one
    /// deleted client does not cut its group mates off (spec §11.2).
    async fn unknown_recipients(
        &self,
        request: &DsFanoutRequest,
        own: &Domain,
    ) -> Result<BTreeSet<String>, DsError> {
        let mut clients = BTreeSet::new();
        for entry in request.entries.as_slice() {
            for DsFanoutRecipient::ClientIdentifier(client) in entry.recipients.as_slice() {
                if client.domain() != own.as_str() {
                    return Err(not_local(client.as_str()));
                }
                clients.insert(client.as_str().to_owned());
            }
        }
        let clients: Vec<String> = clients.into_iter().collect();
        let unknown = self
            .inner
            .store
            .unregistered_clients(&clients)
            .await
            .map_err(internal)?;
        if !unknown.is_empty() {
            metrics::counter!(FANOUT_UNKNOWN_RECIPIENTS_TOTAL, "sender" => request.sender.as_str().to_owned())
                .increment(unknown.len() as u64);
            tracing::info!(sender = %request.sender, clients = ?unknown,
                "fan-out names clients not registered here; left out");
        }
        Ok(unknown.into_iter().collect())
    }

    /// The entries as storage takes them: recipient lists expanded, Welcome
    /// digests computed, clients in `gone` left out (an entry left with no
    /// recipient is not stored). An empty list of a group message means the
    /// set of the same group's previous group message in this request; the
    /// first group message of each group, and every Welcome, must list them.
    fn replica_entries(
        &self,
        request: &DsFanoutRequest,
        gone: &BTreeSet<String>,
    ) -> Result<Vec<ReplicaEntry>, DsError> {
        let mut previous: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut entries = Vec::with_capacity(request.entries.len());
        for entry in request.entries.as_slice() {
            let group = entry.group_id.as_str();
            if entry.sequence == 0 {
                return Err(malformed(format!("{group}: sequence numbers start at 1")));
            }
            let listed = recipients(entry);
            let (kind, recipients) = match entry.kind {
                FanoutEntryKind::GroupMessage => {
                    let recipients = match (listed.is_empty(), previous.get(group)) {
                        (false, _) => listed,
                        (true, Some(before)) => before.clone(),
                        (true, None) => {
                            return Err(malformed(format!(
                                "the first entry of {group} in the request lists no recipients"
                            )));
                        }
                    };
                    previous.insert(group, recipients.clone());
                    (ReplicaKind::GroupMessage, recipients)
                }
                FanoutEntryKind::Welcome => {
                    if listed.is_empty() {
                        return Err(malformed(format!(
                            "a Welcome of {group} lists no recipients"
                        )));
                    }
                    let digest = self.digest(entry.mls_message.as_slice())?;
                    (ReplicaKind::Welcome { digest }, listed)
                }
            };
            let recipients: Vec<String> = recipients
                .into_iter()
                .filter(|client| !gone.contains(client))
                .collect();
            if recipients.is_empty() {
                continue;
            }
            entries.push(ReplicaEntry {
                group_id: group.to_owned(),
                seq: entry.sequence,
                kind,
                recipients,
                message: entry.mls_message.as_slice().to_vec(),
            });
        }
        Ok(entries)
    }

    /// SHA-256 of a Welcome, its identity for deduplication.
    fn digest(&self, message: &[u8]) -> Result<[u8; 32], DsError> {
        self.inner
            .ctx
            .crypto()
            .hash(HashType::Sha2_256, message)
            .ok()
            .and_then(|digest| <[u8; 32]>::try_from(digest).ok())
            .ok_or_else(|| DsError::new(DsErrorCode::InternalError, "hashing a Welcome failed"))
    }
}

/// The checks that need neither keys nor storage, in the spec's order:
/// version, destination, sender, freshness.
fn check_envelope(
    request: &DsFanoutRequest,
    own: &Domain,
    now: u64,
    window: u64,
) -> Result<(), DsError> {
    if !request.version.is_supported() {
        return Err(DsError::new(
            DsErrorCode::UnsupportedVersion,
            format!("unsupported protocol version {}", request.version.0),
        ));
    }
    if request.recipient_domain != *own {
        return Err(DsError::new(
            DsErrorCode::WrongDestination,
            format!("this is {own}, not {}", request.recipient_domain),
        ));
    }
    if request.sender == *own {
        return Err(DsError::new(
            DsErrorCode::NotOwningDomain,
            format!("{own} does not fan out to itself"),
        ));
    }
    if request.timestamp.abs_diff(now) > window {
        return Err(DsError::new(
            DsErrorCode::StaleRequest,
            format!(
                "the fan-out was signed at {}, more than {window} s from this DS's clock ({now})",
                request.timestamp
            ),
        ));
    }
    Ok(())
}

/// Every entry's group is of the sender's domain.
fn check_groups(request: &DsFanoutRequest) -> Result<(), DsError> {
    match request
        .entries
        .as_slice()
        .iter()
        .find(|entry| entry.group_id.domain() != request.sender.as_str())
    {
        Some(entry) => Err(DsError::new(
            DsErrorCode::NotOwningDomain,
            format!("{} does not own {}", request.sender, entry.group_id),
        )),
        None => Ok(()),
    }
}

fn recipients(entry: &DsFanoutEntry) -> Vec<String> {
    entry
        .recipients
        .as_slice()
        .iter()
        .map(|DsFanoutRecipient::ClientIdentifier(client)| client.as_str().to_owned())
        .collect()
}

fn not_local(client: &str) -> DsError {
    DsError::new(
        DsErrorCode::NotLocalRecipient,
        format!("{client} is not a client of this DS"),
    )
}

fn malformed(detail: String) -> DsError {
    DsError::new(DsErrorCode::MalformedMessage, detail)
}
