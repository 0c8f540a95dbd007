//! Property tests of the wire layer (`ds_core::wire`).
//!
//! Strategies below generate arbitrary *valid* values of every wire type
//! (every body variant of the DS and queue messages, every auth variant,
//! every error code, identifiers built from the syntax of `wire/ids.rs`). Byte fields are kept small so
//! the whole file runs in a few seconds.
//!
//! Properties:
//! - round trip: encode then strict decode gives the value back, the encoding
//!   has `tls_serialized_len()` bytes, and it is canonical (a decoded value
//!   re-encodes to exactly the input);
//! - arbitrary bytes never make a top-level decoder panic;
//! - mutations of a valid encoding (bit flips, byte changes, insertions,
//!   deletions, truncations) never panic, and whatever still decodes
//!   re-encodes canonically to a value that decodes equal;
//! - every strict prefix of a valid encoding is refused (truncation);
//! - trailing bytes give `WireError::TrailingBytes`;
//! - any version but 1 gives `WireError::UnsupportedVersion`, whatever follows;
//! - unknown enum values (request/response types, auth type, error codes,
//!   fan-out entry kind, queue request/response types, key-package kind,
//!   page end) give `WireError::UnknownValue`.
//!
//! The top-level messages are `DSRequest`, `DSResponse`, `DSFanoutRequest`,
//! `DSFanoutResponse`, `QSRequest` and `QSResponse`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use ds_core::wire::error::MAX_ERROR_DETAIL;
use ds_core::wire::ids::MAX_ID_LEN;
use ds_core::wire::limits::{
    MAX_FANOUT_ENTRIES, MAX_GROUP_INFO_EXTENSIONS, MAX_LEAF_NODE, MAX_PUBLIC_KEY, MAX_SIGNATURE,
};
use ds_core::wire::{
    AckRequest, AddRequest, Bytes, CLIENT_VOUCHER_LABEL, ClientId, ClientSignature, ClientVoucher,
    ConnectionKeyPackagesRequest, CreateGroupRequest, Domain, DsAuthData, DsError, DsErrorCode,
    DsFanoutEntry, DsFanoutRecipient, DsFanoutRequest, DsFanoutResponse, DsFanoutResponseBody,
    DsKeyPackage, DsRequest, DsRequestBody, DsResponse, DsResponseBody, DsSigningKey,
    ExternalCommitInfo, ExternalCommitInfoRequest, FanoutEntryKind, GroupId, GroupKind,
    GroupLogEntry, GroupPosition, GroupUpdateRequest, InboxMessage, JoinerSignature,
    KeyPackageCountRequest, KeyPackageKind, KeyPackageUpload, KeyPackages, KeyPackagesRequest,
    List, MlsBytes, MlsGroupUpdate, PageEnd, PartialGroupInfo, ProtocolVersion,
    PublishKeyPackagesRequest, QsAuth, QsRequest, QsRequestBody, QsResponse, QsResponseBody,
    QueuePage, QueuePositions, RegisterClientRequest, RegisteredClientSignature,
    SelfRemoveClientRequest, SendMessageRequest, ShortBytes, SignaturePublicKeys, SyncRequest,
    UserId, UserKeyPackagesRequest, VouchedClientSignature, WelcomeInfo, WelcomeInfoRequest,
    WireError, client_signature_tbs, joiner_signature_tbs, qs_request_tbs, registered_client_tbs,
    vouched_client_tbs,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use tls_codec::{Deserialize, Serialize, Size};

// ---------------------------------------------------------------------------
// Strategies: bytes
// ---------------------------------------------------------------------------

/// Small byte strings (0..64 bytes), so tests stay fast.
fn small_vec() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..64)
}

fn bytes<const MAX: usize>() -> impl Strategy<Value = Bytes<MAX>> {
    small_vec().prop_map(|v| Bytes::new(v).unwrap())
}

fn mls_bytes() -> impl Strategy<Value = MlsBytes> {
    bytes()
}

fn short_bytes() -> impl Strategy<Value = ShortBytes> {
    small_vec().prop_map(|v| ShortBytes::new(v).unwrap())
}

fn list<T: Debug + Clone + 'static, const MAX: usize>(
    item: impl Strategy<Value = T>,
) -> impl Strategy<Value = List<T, MAX>> {
    vec(item, 0..4).prop_map(|v| List::new(v).unwrap())
}

// ---------------------------------------------------------------------------
// Strategies: identifiers (syntax of wire/ids.rs)
// ---------------------------------------------------------------------------

const LOWER_DIGIT: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const LABEL_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
const USER_LOCAL_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789._-";
const DEVICE_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
const GROUP_LOCAL_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";

fn chars(alphabet: &'static [u8], len: std::ops::RangeInclusive<usize>) -> BoxedStrategy<String> {
    vec(select(alphabet), len)
        .prop_map(|b| String::from_utf8(b).unwrap())
        .boxed()
}

/// 1..=max characters of `alphabet`, usually short.
fn part(alphabet: &'static [u8], max: usize) -> impl Strategy<Value = String> {
    prop_oneof![4 => chars(alphabet, 1..=8), 1 => chars(alphabet, 1..=max)]
}

/// A DNS label: 1..=63 of `a-z 0-9 -`, no leading or trailing hyphen.
fn label() -> impl Strategy<Value = String> {
    let middle = prop_oneof![4 => chars(LABEL_CHARS, 0..=6), 1 => chars(LABEL_CHARS, 0..=61)];
    (
        select(LOWER_DIGIT),
        middle,
        proptest::option::of(select(LOWER_DIGIT)),
    )
        .prop_map(|(first, middle, last)| {
            let mut s = String::new();
            s.push(first as char);
            if let Some(last) = last {
                s.push_str(&middle);
                s.push(last as char);
            }
            s
        })
}

fn domain_text() -> impl Strategy<Value = String> {
    // The longest domain allowed: 253 bytes.
    let longest = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    prop_oneof![
        20 => vec(label(), 1..=4)
            .prop_map(|labels| labels.join("."))
            .prop_filter("a domain is at most 253 bytes", |d| d.len() <= 253),
        1 => Just(longest),
    ]
}

fn domain() -> impl Strategy<Value = Domain> {
    domain_text().prop_map(|d| Domain::new(&d).expect("strategy makes valid domains"))
}

fn user_id() -> impl Strategy<Value = UserId> {
    (part(USER_LOCAL_CHARS, 64), domain_text())
        .prop_map(|(local, domain)| format!("{local}@{domain}"))
        .prop_filter("user id fits opaque<0..255>", |s| s.len() <= MAX_ID_LEN)
        .prop_map(|s| UserId::new(&s).expect("strategy makes valid user ids"))
}

fn client_id() -> impl Strategy<Value = ClientId> {
    (user_id(), part(DEVICE_CHARS, 64))
        .prop_map(|(user, device)| format!("{user}/{device}"))
        .prop_filter("client id fits opaque<0..255>", |s| s.len() <= MAX_ID_LEN)
        .prop_map(|s| ClientId::new(&s).expect("strategy makes valid client ids"))
}

fn group_id() -> impl Strategy<Value = GroupId> {
    (part(GROUP_LOCAL_CHARS, 64), domain_text())
        .prop_map(|(local, domain)| format!("{local}@{domain}"))
        .prop_filter("group id fits opaque<0..255>", |s| s.len() <= MAX_ID_LEN)
        .prop_map(|s| GroupId::new(&s).expect("strategy makes valid group ids"))
}

// ---------------------------------------------------------------------------
// Strategies: shared structures
// ---------------------------------------------------------------------------

fn partial_group_info() -> impl Strategy<Value = PartialGroupInfo> {
    (
        bytes::<MAX_GROUP_INFO_EXTENSIONS>(),
        bytes::<MAX_SIGNATURE>(),
    )
        .prop_map(|(group_info_extensions, signature)| PartialGroupInfo {
            group_info_extensions,
            signature,
        })
}

fn mls_group_update() -> impl Strategy<Value = MlsGroupUpdate> {
    (mls_bytes(), partial_group_info()).prop_map(|(commit, partial_group_info)| MlsGroupUpdate {
        commit,
        partial_group_info,
    })
}

fn client_signature() -> impl Strategy<Value = ClientSignature> {
    (any::<u32>(), short_bytes()).prop_map(|(sender_index, signature)| ClientSignature {
        sender_index,
        signature,
    })
}

fn joiner_signature() -> impl Strategy<Value = JoinerSignature> {
    (short_bytes(), short_bytes()).prop_map(|(key_package_ref, signature)| JoinerSignature {
        key_package_ref,
        signature,
    })
}

/// 16 to 32 bytes, as signers make them, or any short length (the decoder
/// does not check the length; the verifier does).
fn nonce() -> impl Strategy<Value = ShortBytes> {
    prop_oneof![
        3 => vec(any::<u8>(), 16..=32).prop_map(|v| ShortBytes::new(v).unwrap()),
        1 => short_bytes(),
    ]
}

fn registered_client_signature() -> impl Strategy<Value = RegisteredClientSignature> {
    (client_id(), any::<u64>(), nonce(), short_bytes()).prop_map(
        |(client_id, timestamp, nonce, signature)| RegisteredClientSignature {
            client_id,
            timestamp,
            nonce,
            signature,
        },
    )
}

fn client_voucher() -> impl Strategy<Value = ClientVoucher> {
    (
        domain(),
        short_bytes(),
        client_id(),
        any::<u16>(),
        bytes::<MAX_PUBLIC_KEY>(),
        any::<u64>(),
        short_bytes(),
    )
        .prop_map(
            |(issuer, key_id, client_id, signature_scheme, signature_key, not_after, signature)| {
                ClientVoucher {
                    issuer,
                    key_id,
                    client_id,
                    signature_scheme,
                    signature_key,
                    not_after,
                    signature,
                }
            },
        )
}

fn vouched_client_signature() -> impl Strategy<Value = VouchedClientSignature> {
    (client_voucher(), any::<u64>(), nonce(), short_bytes()).prop_map(
        |(voucher, timestamp, nonce, signature)| VouchedClientSignature {
            voucher,
            timestamp,
            nonce,
            signature,
        },
    )
}

/// Every `DsAuthData` variant.
fn auth_data() -> impl Strategy<Value = DsAuthData> {
    prop_oneof![
        Just(DsAuthData::Anonymous),
        client_signature().prop_map(DsAuthData::ClientSignature),
        joiner_signature().prop_map(DsAuthData::JoinerSignature),
        registered_client_signature().prop_map(DsAuthData::RegisteredClient),
        vouched_client_signature().prop_map(DsAuthData::VouchedClient),
    ]
}

fn error_code() -> impl Strategy<Value = DsErrorCode> {
    select(DsErrorCode::ALL)
}

/// Any text: short, long (beyond the limit), and around the limit with
/// multi-byte characters where it is cut.
fn detail_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => vec(any::<char>(), 0..64).prop_map(String::from_iter),
        1 => (any::<char>(), 0..1100usize).prop_map(|(c, n)| c.to_string().repeat(n)),
        1 => (MAX_ERROR_DETAIL - 8..=MAX_ERROR_DETAIL + 2, vec(any::<char>(), 0..8)).prop_map(
            |(n, tail)| {
                let mut s = "x".repeat(n);
                s.extend(tail);
                s
            }
        ),
    ]
}

fn ds_error() -> impl Strategy<Value = DsError> {
    (error_code(), detail_text()).prop_map(|(code, detail)| DsError::new(code, detail))
}

fn key_package() -> impl Strategy<Value = DsKeyPackage> {
    mls_bytes().prop_map(DsKeyPackage::MlsKeyPackage)
}

fn signing_key() -> impl Strategy<Value = DsSigningKey> {
    (short_bytes(), any::<u16>(), bytes(), any::<u64>()).prop_map(
        |(key_id, signature_scheme, public_key, not_after)| DsSigningKey {
            key_id,
            signature_scheme,
            public_key,
            not_after,
        },
    )
}

// ---------------------------------------------------------------------------
// Strategies: requests
// ---------------------------------------------------------------------------

fn group_kind() -> impl Strategy<Value = GroupKind> {
    prop_oneof![Just(GroupKind::Regular), Just(GroupKind::Connection)]
}

fn create_group_request() -> impl Strategy<Value = CreateGroupRequest> {
    (
        group_id(),
        group_kind(),
        bytes::<MAX_LEAF_NODE>(),
        mls_bytes(),
    )
        .prop_map(
            |(group_id, group_kind, leaf_node, group_info)| CreateGroupRequest {
                group_id,
                group_kind,
                leaf_node,
                group_info,
            },
        )
}

fn group_update_request() -> impl Strategy<Value = GroupUpdateRequest> {
    mls_group_update().prop_map(|group_update| GroupUpdateRequest { group_update })
}

fn add_request() -> impl Strategy<Value = AddRequest> {
    (mls_group_update(), list(mls_bytes())).prop_map(|(group_update, welcomes)| AddRequest {
        group_update,
        welcomes,
    })
}

fn self_remove_client_request() -> impl Strategy<Value = SelfRemoveClientRequest> {
    mls_bytes().prop_map(|proposal| SelfRemoveClientRequest { proposal })
}

fn send_message_request() -> impl Strategy<Value = SendMessageRequest> {
    mls_bytes().prop_map(|application_message| SendMessageRequest {
        application_message,
    })
}

fn key_packages_request() -> impl Strategy<Value = KeyPackagesRequest> {
    list(client_id()).prop_map(|client_ids| KeyPackagesRequest { client_ids })
}

fn connection_key_packages_request() -> impl Strategy<Value = ConnectionKeyPackagesRequest> {
    user_id().prop_map(|user_id| ConnectionKeyPackagesRequest { user_id })
}

fn welcome_info_request() -> impl Strategy<Value = WelcomeInfoRequest> {
    (group_id(), any::<u64>()).prop_map(|(group_id, epoch)| WelcomeInfoRequest { group_id, epoch })
}

fn external_commit_info_request() -> impl Strategy<Value = ExternalCommitInfoRequest> {
    group_id().prop_map(|group_id| ExternalCommitInfoRequest { group_id })
}

/// Every `DsRequestBody` variant, with equal weight.
fn request_body() -> impl Strategy<Value = DsRequestBody> {
    use DsRequestBody as B;
    prop_oneof![
        Just(B::RequestGroupId),
        create_group_request().prop_map(B::CreateGroup),
        group_update_request().prop_map(B::DeleteGroup),
        add_request().prop_map(B::AddUsers),
        group_update_request().prop_map(B::RemoveUsers),
        add_request().prop_map(B::AddClients),
        group_update_request().prop_map(B::RemoveClients),
        self_remove_client_request().prop_map(B::SelfRemoveClient),
        group_update_request().prop_map(B::UpdateClient),
        group_update_request().prop_map(B::ExternalJoin),
        send_message_request().prop_map(B::SendMessage),
        Just(B::SignaturePublicKey),
        key_packages_request().prop_map(B::KeyPackages),
        connection_key_packages_request().prop_map(B::ConnectionKeyPackages),
        welcome_info_request().prop_map(B::WelcomeInfo),
        external_commit_info_request().prop_map(B::ExternalCommitInfo),
        user_id().prop_map(|user_id| B::UserKeyPackages(UserKeyPackagesRequest { user_id })),
    ]
}

fn ds_request() -> impl Strategy<Value = DsRequest> {
    (request_body(), auth_data()).prop_map(|(body, auth)| DsRequest {
        version: ProtocolVersion::V1,
        body,
        auth,
    })
}

// ---------------------------------------------------------------------------
// Strategies: responses
// ---------------------------------------------------------------------------

fn welcome_info() -> impl Strategy<Value = WelcomeInfo> {
    bytes().prop_map(|ratchet_tree| WelcomeInfo { ratchet_tree })
}

fn external_commit_info() -> impl Strategy<Value = ExternalCommitInfo> {
    (mls_bytes(), bytes(), list(mls_bytes())).prop_map(|(group_info, ratchet_tree, proposals)| {
        ExternalCommitInfo {
            group_info,
            ratchet_tree,
            proposals,
        }
    })
}

fn signature_public_keys() -> impl Strategy<Value = SignaturePublicKeys> {
    list(signing_key()).prop_map(|keys| SignaturePublicKeys { keys })
}

fn key_packages() -> impl Strategy<Value = KeyPackages> {
    list(key_package()).prop_map(|key_packages| KeyPackages { key_packages })
}

/// Every `DsResponseBody` variant, with equal weight.
fn response_body() -> impl Strategy<Value = DsResponseBody> {
    use DsResponseBody as B;
    prop_oneof![
        Just(B::Ok),
        ds_error().prop_map(B::Error),
        group_id().prop_map(B::GroupId),
        welcome_info().prop_map(B::WelcomeInfo),
        external_commit_info().prop_map(B::ExternalCommitInfo),
        signature_public_keys().prop_map(B::SignaturePublicKey),
        key_packages().prop_map(B::KeyPackages),
        key_packages().prop_map(B::ConnectionKeyPackages),
    ]
}

fn ds_response() -> impl Strategy<Value = DsResponse> {
    response_body().prop_map(DsResponse::new)
}

// ---------------------------------------------------------------------------
// Strategies: fan-out
// ---------------------------------------------------------------------------

fn fanout_recipient() -> impl Strategy<Value = DsFanoutRecipient> {
    client_id().prop_map(DsFanoutRecipient::ClientIdentifier)
}

fn fanout_entry_kind() -> impl Strategy<Value = FanoutEntryKind> {
    prop_oneof![
        Just(FanoutEntryKind::GroupMessage),
        Just(FanoutEntryKind::Welcome)
    ]
}

fn fanout_entry() -> impl Strategy<Value = DsFanoutEntry> {
    (
        group_id(),
        any::<u64>(),
        fanout_entry_kind(),
        list(fanout_recipient()),
        mls_bytes(),
    )
        .prop_map(
            |(group_id, sequence, kind, recipients, mls_message)| DsFanoutEntry {
                group_id,
                sequence,
                kind,
                recipients,
                mls_message,
            },
        )
}

fn fanout_request_with(
    entries: impl Strategy<Value = List<DsFanoutEntry, MAX_FANOUT_ENTRIES>>,
) -> impl Strategy<Value = DsFanoutRequest> {
    (
        domain(),
        domain(),
        short_bytes(),
        any::<u64>(),
        entries,
        short_bytes(),
    )
        .prop_map(
            |(sender, recipient_domain, key_id, timestamp, entries, signature)| DsFanoutRequest {
                version: ProtocolVersion::V1,
                sender,
                recipient_domain,
                key_id,
                timestamp,
                entries,
                signature,
            },
        )
}

fn fanout_request() -> impl Strategy<Value = DsFanoutRequest> {
    fanout_request_with(list(fanout_entry()))
}

fn fanout_response_body() -> impl Strategy<Value = DsFanoutResponseBody> {
    prop_oneof![
        Just(DsFanoutResponseBody::Ok),
        ds_error().prop_map(DsFanoutResponseBody::Error),
    ]
}

fn fanout_response() -> impl Strategy<Value = DsFanoutResponse> {
    fanout_response_body().prop_map(|body| DsFanoutResponse {
        version: ProtocolVersion::V1,
        body,
    })
}

// ---------------------------------------------------------------------------
// Strategies: the queue service (wire/queue.rs)
// ---------------------------------------------------------------------------

fn register_client_request() -> impl Strategy<Value = RegisterClientRequest> {
    (any::<u16>(), bytes(), short_bytes()).prop_map(
        |(signature_scheme, signature_key, registration_token)| RegisterClientRequest {
            signature_scheme,
            signature_key,
            registration_token,
        },
    )
}

fn group_position() -> impl Strategy<Value = GroupPosition> {
    (group_id(), any::<u64>()).prop_map(|(group_id, sequence)| GroupPosition { group_id, sequence })
}

fn queue_positions() -> impl Strategy<Value = QueuePositions> {
    (list(group_position()), any::<u64>())
        .prop_map(|(groups, inbox)| QueuePositions { groups, inbox })
}

fn sync_request() -> impl Strategy<Value = SyncRequest> {
    (queue_positions(), any::<u32>())
        .prop_map(|(after, max_entries)| SyncRequest { after, max_entries })
}

fn ack_request() -> impl Strategy<Value = AckRequest> {
    queue_positions().prop_map(|positions| AckRequest { positions })
}

fn key_package_kind() -> impl Strategy<Value = KeyPackageKind> {
    prop_oneof![
        Just(KeyPackageKind::Regular),
        Just(KeyPackageKind::Connection)
    ]
}

fn key_package_upload() -> impl Strategy<Value = KeyPackageUpload> {
    (key_package_kind(), mls_bytes())
        .prop_map(|(kind, key_package)| KeyPackageUpload { kind, key_package })
}

fn publish_key_packages_request() -> impl Strategy<Value = PublishKeyPackagesRequest> {
    list(key_package_upload()).prop_map(|key_packages| PublishKeyPackagesRequest { key_packages })
}

fn key_package_count_request() -> impl Strategy<Value = KeyPackageCountRequest> {
    key_package_kind().prop_map(|kind| KeyPackageCountRequest { kind })
}

/// Every `QSRequestBody` variant.
fn qs_request_body() -> impl Strategy<Value = QsRequestBody> {
    prop_oneof![
        register_client_request().prop_map(QsRequestBody::RegisterClient),
        sync_request().prop_map(QsRequestBody::Sync),
        ack_request().prop_map(QsRequestBody::Ack),
        publish_key_packages_request().prop_map(QsRequestBody::PublishKeyPackages),
        key_package_count_request().prop_map(QsRequestBody::KeyPackageCount),
        sync_request().prop_map(QsRequestBody::Subscribe),
        Just(QsRequestBody::ClientVoucher),
    ]
}

fn qs_auth() -> impl Strategy<Value = QsAuth> {
    (client_id(), any::<u64>(), nonce(), short_bytes()).prop_map(
        |(client_id, timestamp, nonce, signature)| QsAuth {
            client_id,
            timestamp,
            nonce,
            signature,
        },
    )
}

fn qs_request() -> impl Strategy<Value = QsRequest> {
    (qs_request_body(), qs_auth()).prop_map(|(body, auth)| QsRequest {
        version: ProtocolVersion::V1,
        body,
        auth,
    })
}

fn inbox_message() -> impl Strategy<Value = InboxMessage> {
    (any::<u64>(), mls_bytes()).prop_map(|(sequence, message)| InboxMessage { sequence, message })
}

fn group_log_entry() -> impl Strategy<Value = GroupLogEntry> {
    (
        group_id(),
        any::<u64>(),
        proptest::option::of(client_id()),
        mls_bytes(),
    )
        .prop_map(|(group_id, sequence, sender, message)| GroupLogEntry {
            group_id,
            sequence,
            sender,
            message,
        })
}

fn page_end() -> impl Strategy<Value = PageEnd> {
    prop_oneof![Just(PageEnd::Complete), Just(PageEnd::More)]
}

fn queue_page() -> impl Strategy<Value = QueuePage> {
    (list(inbox_message()), list(group_log_entry()), page_end()).prop_map(
        |(inbox, group_entries, end)| QueuePage {
            inbox,
            group_entries,
            end,
        },
    )
}

/// Every `QSResponseBody` variant.
fn qs_response_body() -> impl Strategy<Value = QsResponseBody> {
    prop_oneof![
        Just(QsResponseBody::Ok),
        ds_error().prop_map(QsResponseBody::Error),
        queue_page().prop_map(QsResponseBody::Page),
        any::<u32>().prop_map(QsResponseBody::KeyPackageCount),
        client_voucher().prop_map(QsResponseBody::Voucher),
    ]
}

fn qs_response() -> impl Strategy<Value = QsResponse> {
    qs_response_body().prop_map(QsResponse::new)
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/// The six strictly decoded top-level messages.
trait TopLevel: Sized + PartialEq + Debug + Size {
    fn enc(&self) -> Vec<u8>;
    fn dec(bytes: &[u8]) -> Result<Self, WireError>;
}

macro_rules! top_level {
    ($($t:ty),*) => {$(
        impl TopLevel for $t {
            fn enc(&self) -> Vec<u8> {
                self.encode().expect("a valid value encodes")
            }
            fn dec(bytes: &[u8]) -> Result<Self, WireError> {
                <$t>::decode(bytes)
            }
        }
    )*};
}

top_level!(
    DsRequest,
    DsResponse,
    DsFanoutRequest,
    DsFanoutResponse,
    QsRequest,
    QsResponse
);

/// Encode, check the length, decode strictly, compare; returns the encoding.
fn check_top_round_trip<T: TopLevel>(value: &T) -> Result<Vec<u8>, TestCaseError> {
    let enc = value.enc();
    prop_assert_eq!(enc.len(), value.tls_serialized_len());
    prop_assert_eq!(&enc[..2], &[0u8, 1][..], "version 1 comes first");
    let dec = T::dec(&enc);
    prop_assert_eq!(dec.as_ref(), Ok(value));
    Ok(enc)
}

/// Same as [`check_top_round_trip`] for an inner type with `tls_deserialize_exact`.
fn check_inner_round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + Deserialize + Size + PartialEq + Debug,
{
    let enc = value
        .tls_serialize_detached()
        .expect("a valid value encodes");
    prop_assert_eq!(enc.len(), value.tls_serialized_len());
    let dec = T::tls_deserialize_exact(&enc);
    prop_assert_eq!(dec.as_ref(), Ok(value));
    // Canonical: the value re-encodes to the very same bytes.
    prop_assert_eq!(dec.unwrap().tls_serialize_detached().unwrap(), enc);
    // And anything after it is refused.
    let mut longer = value.tls_serialize_detached().unwrap();
    longer.push(0);
    prop_assert!(T::tls_deserialize_exact(&longer).is_err());
    Ok(())
}

/// Whatever decodes must re-encode to the input (canonical encoding) and that
/// re-encoding must decode to the same value.
fn check_decoded_is_consistent<T: TopLevel>(input: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(value) = T::dec(input) {
        let re = value.enc();
        prop_assert_eq!(re.len(), value.tls_serialized_len());
        let again = T::dec(&re);
        prop_assert_eq!(again.as_ref(), Ok(&value));
        prop_assert_eq!(
            hex::encode(&re),
            hex::encode(input),
            "the accepted encoding is not canonical"
        );
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR a byte with a non-zero mask.
    Flip(Index, u8),
    /// Replace a byte.
    Set(Index, u8),
    /// Insert a byte (at 0..=len).
    Insert(Index, u8),
    /// Delete a byte.
    Delete(Index),
    /// Keep only a prefix.
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 1u8..).prop_map(|(i, m)| Mutation::Flip(i, m)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<Index>().prop_map(Mutation::Delete),
        any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match mutation {
        Mutation::Insert(i, b) => bytes.insert(i.index(len + 1), *b),
        _ if len == 0 => {}
        Mutation::Flip(i, m) => bytes[i.index(len)] ^= m,
        Mutation::Set(i, b) => bytes[i.index(len)] = *b,
        Mutation::Delete(i) => {
            bytes.remove(i.index(len));
        }
        Mutation::Truncate(i) => bytes.truncate(i.index(len)),
    }
}

fn check_mutations<T: TopLevel>(value: &T, mutations: &[Mutation]) -> Result<(), TestCaseError> {
    let mut bytes = value.enc();
    for m in mutations {
        mutate(&mut bytes, m);
        check_decoded_is_consistent::<T>(&bytes)?;
    }
    Ok(())
}

/// Every strict prefix of a valid encoding is refused (the messages are
/// self-delimiting: nothing at their end is optional).
fn check_truncations<T: TopLevel>(value: &T) -> Result<(), TestCaseError> {
    let bytes = value.enc();
    for len in 0..bytes.len() {
        prop_assert!(
            T::dec(&bytes[..len]).is_err(),
            "a prefix of {} of {} bytes decodes",
            len,
            bytes.len()
        );
    }
    Ok(())
}

fn check_trailing<T: TopLevel>(value: &T, trailing: &[u8]) -> Result<(), TestCaseError> {
    let mut bytes = value.enc();
    bytes.extend_from_slice(trailing);
    prop_assert_eq!(
        T::dec(&bytes),
        Err(WireError::TrailingBytes(trailing.len()))
    );
    Ok(())
}

fn check_version<T: TopLevel>(value: &T, version: u16) -> Result<(), TestCaseError> {
    let mut bytes = value.enc();
    bytes[..2].copy_from_slice(&version.to_be_bytes());
    prop_assert_eq!(T::dec(&bytes), Err(WireError::UnsupportedVersion(version)));
    Ok(())
}

/// Overwrites the big-endian enum value at `offset` and expects `UnknownValue`.
fn check_unknown_value<T: TopLevel>(
    value: &T,
    offset: usize,
    unknown: &[u8],
) -> Result<(), TestCaseError> {
    let mut bytes = value.enc();
    bytes[offset..offset + unknown.len()].copy_from_slice(unknown);
    let number = unknown.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
    prop_assert_eq!(T::dec(&bytes), Err(WireError::UnknownValue(number)));
    Ok(())
}

/// Arbitrary bytes after a valid version and a chosen 16-bit type field, to get
/// past the first checks more often than uniform noise does.
fn steered_input() -> impl Strategy<Value = Vec<u8>> {
    (0u16..20, vec(any::<u8>(), 0..2048)).prop_map(|(t, rest)| {
        let mut input = vec![0, 1];
        input.extend_from_slice(&t.to_be_bytes());
        input.extend(rest);
        input
    })
}

fn noise() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..2048)
}

/// An `opaque<0..255>` of id-like characters (so some of it parses), or noise.
fn id_noise() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(select(&b"az09AZ.-_@/\xc3\xa9"[..]), 0..=255).prop_map(|text| {
            let mut input = vec![text.len() as u8];
            input.extend(text);
            input
        }),
        vec(any::<u8>(), 0..300),
    ]
}

fn not_v1() -> impl Strategy<Value = u16> {
    any::<u16>().prop_filter("not version 1", |v| *v != 1)
}

fn trailing() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 1..64)
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    vec(mutation(), 1..=4)
}

// ---------------------------------------------------------------------------
// Round trips of inner types
// ---------------------------------------------------------------------------

macro_rules! inner_round_trips {
    ($($name:ident: $strategy:expr;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            $(
                #[test]
                fn $name(value in $strategy) {
                    check_inner_round_trip(&value)?;
                }
            )*
        }
    };
}

inner_round_trips! {
    round_trip_domain: domain();
    round_trip_user_id: user_id();
    round_trip_client_id: client_id();
    round_trip_group_id: group_id();
    round_trip_short_bytes: short_bytes();
    round_trip_mls_bytes: mls_bytes();
    round_trip_partial_group_info: partial_group_info();
    round_trip_mls_group_update: mls_group_update();
    round_trip_client_signature: client_signature();
    round_trip_joiner_signature: joiner_signature();
    round_trip_auth_data: auth_data();
    round_trip_error_code: error_code();
    round_trip_ds_error: ds_error();
    round_trip_key_package: key_package();
    round_trip_signing_key: signing_key();
    round_trip_group_kind: group_kind();
    round_trip_create_group_request: create_group_request();
    round_trip_group_update_request: group_update_request();
    round_trip_add_request: add_request();
    round_trip_self_remove_client_request: self_remove_client_request();
    round_trip_send_message_request: send_message_request();
    round_trip_key_packages_request: key_packages_request();
    round_trip_connection_key_packages_request: connection_key_packages_request();
    round_trip_welcome_info_request: welcome_info_request();
    round_trip_external_commit_info_request: external_commit_info_request();
    round_trip_request_body: request_body();
    round_trip_welcome_info: welcome_info();
    round_trip_external_commit_info: external_commit_info();
    round_trip_signature_public_keys: signature_public_keys();
    round_trip_key_packages: key_packages();
    round_trip_response_body: response_body();
    round_trip_fanout_recipient: fanout_recipient();
    round_trip_fanout_entry_kind: fanout_entry_kind();
    round_trip_fanout_entry: fanout_entry();
    round_trip_fanout_response_body: fanout_response_body();
    round_trip_fanout_request_inner: fanout_request();
    round_trip_registered_client_signature: registered_client_signature();
    round_trip_client_voucher: client_voucher();
    round_trip_vouched_client_signature: vouched_client_signature();
    round_trip_register_client_request: register_client_request();
    round_trip_group_position: group_position();
    round_trip_queue_positions: queue_positions();
    round_trip_sync_request: sync_request();
    round_trip_ack_request: ack_request();
    round_trip_key_package_kind: key_package_kind();
    round_trip_key_package_upload: key_package_upload();
    round_trip_publish_key_packages_request: publish_key_packages_request();
    round_trip_key_package_count_request: key_package_count_request();
    round_trip_qs_request_body: qs_request_body();
    round_trip_qs_auth: qs_auth();
    round_trip_inbox_message: inbox_message();
    round_trip_group_log_entry: group_log_entry();
    round_trip_page_end: page_end();
    round_trip_queue_page: queue_page();
    round_trip_qs_response_body: qs_response_body();
}

// ---------------------------------------------------------------------------
// Top-level properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // (a) round trip

    #[test]
    fn request_round_trips(req in ds_request()) {
        let enc = check_top_round_trip(&req)?;
        check_decoded_is_consistent::<DsRequest>(&enc)?;
        // What a signature covers: the version and body exactly as encoded,
        // then the signer's leaf index, key package ref, or client id,
        // timestamp and nonce.
        let signed_prefix = &enc[..2 + req.body.tls_serialized_len()];
        match &req.auth {
            DsAuthData::Anonymous => {}
            DsAuthData::ClientSignature(s) => {
                let tbs = client_signature_tbs(req.version, &req.body, s.sender_index).unwrap();
                let mut expected = signed_prefix.to_vec();
                expected.extend_from_slice(&s.sender_index.to_be_bytes());
                prop_assert_eq!(hex::encode(tbs), hex::encode(expected));
            }
            DsAuthData::JoinerSignature(s) => {
                let tbs = joiner_signature_tbs(req.version, &req.body, &s.key_package_ref).unwrap();
                let mut expected = signed_prefix.to_vec();
                expected.extend(s.key_package_ref.tls_serialize_detached().unwrap());
                prop_assert_eq!(hex::encode(tbs), hex::encode(expected));
            }
            DsAuthData::VouchedClient(s) => {
                let tbs =
                    vouched_client_tbs(req.version, &req.body, &s.voucher, s.timestamp, &s.nonce)
                        .unwrap();
                let mut expected = signed_prefix.to_vec();
                expected.extend(s.voucher.tls_serialize_detached().unwrap());
                expected.extend_from_slice(&s.timestamp.to_be_bytes());
                expected.extend(s.nonce.tls_serialize_detached().unwrap());
                prop_assert_eq!(hex::encode(tbs), hex::encode(expected));
            }
            DsAuthData::RegisteredClient(s) => {
                let tbs = registered_client_tbs(
                    req.version,
                    &req.body,
                    &s.client_id,
                    s.timestamp,
                    &s.nonce,
                )
                .unwrap();
                let mut expected = signed_prefix.to_vec();
                expected.extend(s.client_id.tls_serialize_detached().unwrap());
                expected.extend_from_slice(&s.timestamp.to_be_bytes());
                expected.extend(s.nonce.tls_serialize_detached().unwrap());
                prop_assert_eq!(hex::encode(tbs), hex::encode(expected));
            }
        }
    }

    #[test]
    fn response_round_trips(resp in ds_response()) {
        let enc = check_top_round_trip(&resp)?;
        check_decoded_is_consistent::<DsResponse>(&enc)?;
    }

    #[test]
    fn fanout_request_round_trips(req in fanout_request()) {
        let enc = check_top_round_trip(&req)?;
        check_decoded_is_consistent::<DsFanoutRequest>(&enc)?;
        // The signed content is the encoding minus the signature, after the label.
        let signed = req.signed_content().unwrap();
        let label_len = signed.len() - (enc.len() - req.signature.tls_serialized_len());
        prop_assert_eq!(&signed[label_len..], &enc[..enc.len() - req.signature.tls_serialized_len()]);
    }

    #[test]
    fn fanout_response_round_trips(resp in fanout_response()) {
        let enc = check_top_round_trip(&resp)?;
        check_decoded_is_consistent::<DsFanoutResponse>(&enc)?;
    }

    // (b) arbitrary bytes never panic; whatever decodes is consistent

    #[test]
    fn request_decode_of_noise_never_panics(input in noise()) {
        check_decoded_is_consistent::<DsRequest>(&input)?;
    }

    #[test]
    fn response_decode_of_noise_never_panics(input in noise()) {
        check_decoded_is_consistent::<DsResponse>(&input)?;
    }

    #[test]
    fn fanout_request_decode_of_noise_never_panics(input in noise()) {
        check_decoded_is_consistent::<DsFanoutRequest>(&input)?;
    }

    #[test]
    fn fanout_response_decode_of_noise_never_panics(input in noise()) {
        check_decoded_is_consistent::<DsFanoutResponse>(&input)?;
    }

    #[test]
    fn decoders_of_steered_noise_never_panic(input in steered_input()) {
        check_decoded_is_consistent::<DsRequest>(&input)?;
        check_decoded_is_consistent::<DsResponse>(&input)?;
        check_decoded_is_consistent::<DsFanoutRequest>(&input)?;
        check_decoded_is_consistent::<DsFanoutResponse>(&input)?;
    }

    #[test]
    fn id_decoders_of_noise_never_panic(input in id_noise()) {
        if let Ok(d) = Domain::tls_deserialize_exact(&input) {
            prop_assert_eq!(Domain::new(d.as_str()), Ok(d.clone()));
        }
        if let Ok(u) = UserId::tls_deserialize_exact(&input) {
            prop_assert_eq!(UserId::new(u.as_str()), Ok(u.clone()));
        }
        if let Ok(c) = ClientId::tls_deserialize_exact(&input) {
            prop_assert_eq!(ClientId::new(c.as_str()), Ok(c.clone()));
        }
        if let Ok(g) = GroupId::tls_deserialize_exact(&input) {
            prop_assert_eq!(GroupId::from_bytes(g.as_bytes()), Ok(g.clone()));
        }
    }

    // (c) mutations

    #[test]
    fn mutated_request_is_handled(req in ds_request(), ms in mutations()) {
        check_mutations(&req, &ms)?;
    }

    #[test]
    fn mutated_response_is_handled(resp in ds_response(), ms in mutations()) {
        check_mutations(&resp, &ms)?;
    }

    #[test]
    fn mutated_fanout_request_is_handled(req in fanout_request(), ms in mutations()) {
        check_mutations(&req, &ms)?;
    }

    #[test]
    fn mutated_fanout_response_is_handled(resp in fanout_response(), ms in mutations()) {
        check_mutations(&resp, &ms)?;
    }

    // (d) trailing bytes

    #[test]
    fn trailing_bytes_are_rejected(
        req in ds_request(),
        resp in ds_response(),
        freq in fanout_request(),
        fresp in fanout_response(),
        extra in trailing(),
    ) {
        check_trailing(&req, &extra)?;
        check_trailing(&resp, &extra)?;
        check_trailing(&freq, &extra)?;
        check_trailing(&fresp, &extra)?;
    }

    // (e) unsupported versions

    #[test]
    fn other_versions_are_rejected(
        req in ds_request(),
        resp in ds_response(),
        freq in fanout_request(),
        fresp in fanout_response(),
        version in not_v1(),
    ) {
        check_version(&req, version)?;
        check_version(&resp, version)?;
        check_version(&freq, version)?;
        check_version(&fresp, version)?;
    }

    /// The version is read first: nothing after it matters.
    #[test]
    fn other_versions_are_rejected_whatever_follows(version in not_v1(), rest in noise()) {
        let mut input = version.to_be_bytes().to_vec();
        input.extend(rest);
        let expected = Err::<(), _>(WireError::UnsupportedVersion(version));
        prop_assert_eq!(DsRequest::decode(&input).map(drop), expected.clone());
        prop_assert_eq!(DsResponse::decode(&input).map(drop), expected.clone());
        prop_assert_eq!(DsFanoutRequest::decode(&input).map(drop), expected.clone());
        prop_assert_eq!(DsFanoutResponse::decode(&input).map(drop), expected);
    }

    // (f) unknown enum values

    #[test]
    fn unknown_request_type_is_rejected(req in ds_request(), t in 16u16..) {
        check_unknown_value(&req, 2, &t.to_be_bytes())?;
    }

    #[test]
    fn unknown_auth_type_is_rejected(req in ds_request(), t in 5u8..) {
        check_unknown_value(&req, 2 + req.body.tls_serialized_len(), &[t])?;
    }

    #[test]
    fn unknown_response_type_is_rejected(resp in ds_response(), t in 8u16..) {
        check_unknown_value(&resp, 2, &t.to_be_bytes())?;
    }

    #[test]
    fn unknown_fanout_response_type_is_rejected(resp in fanout_response(), t in 2u16..) {
        check_unknown_value(&resp, 2, &t.to_be_bytes())?;
    }

    #[test]
    fn unknown_error_code_is_rejected(
        e in ds_error(),
        code in any::<u16>().prop_filter("not a defined code", |c| {
            !DsErrorCode::ALL.iter().any(|k| k.number() == *c)
        }),
    ) {
        // version(2) body type(2) code(2)
        check_unknown_value(&DsResponse::new(DsResponseBody::Error(e.clone())), 4, &code.to_be_bytes())?;
        let fresp = DsFanoutResponse { version: ProtocolVersion::V1, body: DsFanoutResponseBody::Error(e) };
        check_unknown_value(&fresp, 4, &code.to_be_bytes())?;
    }

    #[test]
    fn unknown_fanout_entry_kind_is_rejected(
        req in fanout_request_with(vec(fanout_entry(), 1..3).prop_map(|v| List::new(v).unwrap())),
        kind in 2u8..,
    ) {
        let entries_content: usize =
            req.entries.as_slice().iter().map(Size::tls_serialized_len).sum();
        let first = &req.entries.as_slice()[0];
        let offset = 2
            + req.sender.tls_serialized_len()
            + req.recipient_domain.tls_serialized_len()
            + req.key_id.tls_serialized_len()
            + 8 // timestamp
            + (req.entries.tls_serialized_len() - entries_content)
            + first.group_id.tls_serialized_len()
            + 8;
        check_unknown_value(&req, offset, &[kind])?;
    }

    // Identifier syntax and the error detail cut

    #[test]
    fn ids_expose_their_parts(
        (local, device, d) in (part(USER_LOCAL_CHARS, 64), part(DEVICE_CHARS, 64), domain())
            .prop_filter("client id fits opaque<0..255>", |(l, dev, d)| {
                l.len() + 1 + d.as_str().len() + 1 + dev.len() <= MAX_ID_LEN
            }),
    ) {
        let user = UserId::from_parts(&local, &d).unwrap();
        prop_assert_eq!(user.local(), local.as_str());
        prop_assert_eq!(user.domain(), d.as_str());
        prop_assert_eq!(user.as_str().parse::<UserId>(), Ok(user.clone()));
        let client = ClientId::from_parts(&user, &device).unwrap();
        prop_assert_eq!(client.user(), &user);
        prop_assert_eq!(client.device(), device.as_str());
        prop_assert_eq!(client.domain(), d.as_str());
        prop_assert_eq!(client.to_string().parse::<ClientId>(), Ok(client.clone()));
    }

    /// Parts within their own limits can make an id longer than its
    /// `opaque<0..255>` field: such ids are refused, every other one encodes
    /// in `tls_serialized_len()` bytes.
    #[test]
    fn ids_are_refused_exactly_when_too_long_for_the_wire(
        local in part(USER_LOCAL_CHARS, 64),
        device in part(DEVICE_CHARS, 64),
        d in domain_text(),
    ) {
        let user_text = format!("{local}@{d}");
        let client_text = format!("{user_text}/{device}");
        match UserId::new(&user_text) {
            Ok(u) => {
                prop_assert!(user_text.len() <= MAX_ID_LEN);
                prop_assert_eq!(u.tls_serialize_detached().unwrap().len(), u.tls_serialized_len());
            }
            Err(_) => prop_assert!(user_text.len() > MAX_ID_LEN),
        }
        match ClientId::new(&client_text) {
            Ok(c) => {
                prop_assert!(client_text.len() <= MAX_ID_LEN);
                prop_assert_eq!(c.tls_serialize_detached().unwrap().len(), c.tls_serialized_len());
            }
            Err(_) => prop_assert!(client_text.len() > MAX_ID_LEN),
        }
        let group_text = format!("{}@{d}", local.replace(['.', '_'], "-"));
        match GroupId::new(&group_text) {
            Ok(g) => {
                prop_assert!(group_text.len() <= MAX_ID_LEN);
                prop_assert_eq!(g.tls_serialize_detached().unwrap().len(), g.tls_serialized_len());
            }
            Err(_) => prop_assert!(group_text.len() > MAX_ID_LEN),
        }
    }

    #[test]
    fn group_ids_expose_their_domain(g in group_id()) {
        let (_, d) = g.as_str().split_once('@').unwrap();
        prop_assert_eq!(g.domain(), d);
        prop_assert_eq!(GroupId::from_bytes(g.as_bytes()), Ok(g.clone()));
    }

    #[test]
    fn error_detail_is_a_bounded_prefix(code in error_code(), detail in detail_text()) {
        let e = DsError::new(code, detail.clone());
        let kept = e.detail();
        prop_assert!(kept.len() <= MAX_ERROR_DETAIL);
        prop_assert!(detail.starts_with(&kept));
        if detail.len() <= MAX_ERROR_DETAIL {
            prop_assert_eq!(&kept, &detail);
        } else {
            // Cut on the last char boundary at or before the limit.
            prop_assert!(kept.len() > MAX_ERROR_DETAIL - 4);
        }
        prop_assert_eq!(e.code, code);
    }
}

// ---------------------------------------------------------------------------
// The queue messages, and truncation of every top-level message
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn qs_request_round_trips(req in qs_request()) {
        let enc = check_top_round_trip(&req)?;
        check_decoded_is_consistent::<QsRequest>(&enc)?;
        // The signed bytes are the encoding up to the auth, then the auth's
        // client id, timestamp and nonce.
        let tbs = qs_request_tbs(req.version, &req.body, &req.auth.client_id, req.auth.timestamp, &req.auth.nonce).unwrap();
        let body_end = 2 + req.body.tls_serialized_len();
        prop_assert_eq!(&tbs[..body_end], &enc[..body_end]);
        let auth_start = body_end;
        let auth_signed = req.auth.tls_serialized_len() - req.auth.signature.tls_serialized_len();
        prop_assert_eq!(&tbs[body_end..], &enc[auth_start..auth_start + auth_signed]);
    }

    #[test]
    fn qs_response_round_trips(resp in qs_response()) {
        let enc = check_top_round_trip(&resp)?;
        check_decoded_is_consistent::<QsResponse>(&enc)?;
    }

    /// The RegisteredClient TBS is the request up to the auth, then the
    /// signed fields of the auth (after its one-byte type).
    #[test]
    fn registered_client_tbs_is_the_request_without_the_signature(
        body in request_body(),
        rc in registered_client_signature(),
    ) {
        let req = DsRequest {
            version: ProtocolVersion::V1,
            body,
            auth: DsAuthData::RegisteredClient(rc.clone()),
        };
        let enc = check_top_round_trip(&req)?;
        let tbs = registered_client_tbs(req.version, &req.body, &rc.client_id, rc.timestamp, &rc.nonce).unwrap();
        let body_end = 2 + req.body.tls_serialized_len();
        prop_assert_eq!(enc[body_end], 3u8, "registered_client(3)");
        let signed = rc.tls_serialized_len() - rc.signature.tls_serialized_len();
        let mut expected = enc[..body_end].to_vec();
        expected.extend_from_slice(&enc[body_end + 1..body_end + 1 + signed]);
        prop_assert_eq!(tbs, expected);
    }

    /// The voucher's signed content is the label, then its encoding without
    /// the signature.
    #[test]
    fn voucher_signed_content_is_the_label_and_the_voucher_without_signature(
        v in client_voucher(),
    ) {
        let enc = v.tls_serialize_detached().unwrap();
        let unsigned = enc.len() - v.signature.tls_serialized_len();
        let mut expected = CLIENT_VOUCHER_LABEL.to_vec();
        expected.extend_from_slice(&enc[..unsigned]);
        prop_assert_eq!(v.signed_content().unwrap(), expected);
    }

    #[test]
    fn voucher_decode_of_noise_never_panics(input in noise()) {
        if let Ok(v) = ClientVoucher::tls_deserialize_exact(&input) {
            let re = v.tls_serialize_detached().unwrap();
            prop_assert_eq!(hex::encode(&re), hex::encode(&input), "not canonical");
        }
    }

    #[test]
    fn mutated_voucher_is_handled(v in client_voucher(), ms in mutations()) {
        let mut bytes = v.tls_serialize_detached().unwrap();
        for m in &ms {
            mutate(&mut bytes, m);
            if let Ok(d) = ClientVoucher::tls_deserialize_exact(&bytes) {
                prop_assert_eq!(hex::encode(d.tls_serialize_detached().unwrap()), hex::encode(&bytes));
            }
        }
    }

    #[test]
    fn qs_request_decode_of_noise_never_panics(input in noise()) {
        check_decoded_is_consistent::<QsRequest>(&input)?;
    }

    #[test]
    fn qs_response_decode_of_noise_never_panics(input in noise()) {
        check_decoded_is_consistent::<QsResponse>(&input)?;
    }

    #[test]
    fn qs_decoders_of_steered_noise_never_panic(input in steered_input()) {
        check_decoded_is_consistent::<QsRequest>(&input)?;
        check_decoded_is_consistent::<QsResponse>(&input)?;
    }

    #[test]
    fn mutated_qs_request_is_handled(req in qs_request(), ms in mutations()) {
        check_mutations(&req, &ms)?;
    }

    #[test]
    fn mutated_qs_response_is_handled(resp in qs_response(), ms in mutations()) {
        check_mutations(&resp, &ms)?;
    }

    #[test]
    fn truncated_messages_are_refused(
        req in ds_request(),
        resp in ds_response(),
        freq in fanout_request(),
        fresp in fanout_response(),
        qreq in qs_request(),
        qresp in qs_response(),
    ) {
        check_truncations(&req)?;
        check_truncations(&resp)?;
        check_truncations(&freq)?;
        check_truncations(&fresp)?;
        check_truncations(&qreq)?;
        check_truncations(&qresp)?;
    }

    #[test]
    fn qs_trailing_bytes_and_other_versions_are_rejected(
        req in qs_request(),
        resp in qs_response(),
        extra in trailing(),
        version in not_v1(),
    ) {
        check_trailing(&req, &extra)?;
        check_trailing(&resp, &extra)?;
        check_version(&req, version)?;
        check_version(&resp, version)?;
    }

    #[test]
    fn qs_other_versions_are_rejected_whatever_follows(version in not_v1(), rest in noise()) {
        let mut input = version.to_be_bytes().to_vec();
        input.extend(rest);
        let expected = Err::<(), _>(WireError::UnsupportedVersion(version));
        prop_assert_eq!(QsRequest::decode(&input).map(drop), expected.clone());
        prop_assert_eq!(QsResponse::decode(&input).map(drop), expected);
    }

    #[test]
    fn unknown_qs_request_type_is_rejected(req in qs_request(), t in 7u16..) {
        check_unknown_value(&req, 2, &t.to_be_bytes())?;
    }

    #[test]
    fn unknown_qs_response_type_is_rejected(resp in qs_response(), t in 5u16..) {
        check_unknown_value(&resp, 2, &t.to_be_bytes())?;
    }

    #[test]
    fn unknown_qs_error_code_is_rejected(
        e in ds_error(),
        code in any::<u16>().prop_filter("not a defined code", |c| {
            !DsErrorCode::ALL.iter().any(|k| k.number() == *c)
        }),
    ) {
        // version(2) body type(2) code(2)
        check_unknown_value(&QsResponse::new(QsResponseBody::Error(e)), 4, &code.to_be_bytes())?;
    }

    #[test]
    fn unknown_key_package_kind_is_rejected(
        kind in key_package_kind(),
        auth in qs_auth(),
        uploads in vec(key_package_upload(), 1..3),
        unknown in 2u8..,
    ) {
        // version(2) type(2) kind(1)
        let count = QsRequest {
            version: ProtocolVersion::V1,
            body: QsRequestBody::KeyPackageCount(KeyPackageCountRequest { kind }),
            auth: auth.clone(),
        };
        check_unknown_value(&count, 4, &[unknown])?;
        // version(2) type(2) list length, then the first upload's kind.
        let list = List::new(uploads).unwrap();
        let content: usize = list.as_slice().iter().map(Size::tls_serialized_len).sum();
        let offset = 4 + (list.tls_serialized_len() - content);
        let publish = QsRequest {
            version: ProtocolVersion::V1,
            body: QsRequestBody::PublishKeyPackages(PublishKeyPackagesRequest { key_packages: list }),
            auth,
        };
        check_unknown_value(&publish, offset, &[unknown])?;
    }

    #[test]
    fn unknown_page_end_is_rejected(page in queue_page(), end in 2u8..) {
        // PageEnd is the last byte of a page response.
        let resp = QsResponse::new(QsResponseBody::Page(page));
        let last = resp.tls_serialized_len() - 1;
        check_unknown_value(&resp, last, &[end])?;
    }

    /// The sender of a group entry is RFC 9420's `optional<T>`: a presence
    /// byte other than 0 or 1 is refused.
    #[test]
    fn bad_optional_sender_is_rejected(entry in group_log_entry(), presence in 2u8..) {
        let mut bytes = entry.tls_serialize_detached().unwrap();
        bytes[entry.group_id.tls_serialized_len() + 8] = presence;
        prop_assert!(GroupLogEntry::tls_deserialize_exact(&bytes).is_err());
    }
}

/// Fixed inputs that pin down the edges the strategies reach only rarely.
#[test]
fn edge_cases() {
    // Empty input and a lone version.
    for input in [&[][..], &[0][..], &[0, 1][..]] {
        assert!(matches!(
            DsRequest::decode(input),
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(
            DsResponse::decode(input),
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(
            DsFanoutRequest::decode(input),
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(
            DsFanoutResponse::decode(input),
            Err(WireError::Malformed(_))
        ));
    }
    for input in [&[][..], &[0][..], &[0, 1][..]] {
        assert!(matches!(
            QsRequest::decode(input),
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(
            QsResponse::decode(input),
            Err(WireError::Malformed(_))
        ));
    }
    assert_eq!(
        QsResponse::decode(&hex::decode("00010000").unwrap()),
        Ok(QsResponse::new(QsResponseBody::Ok))
    );
    // An empty, complete page: two empty lists and complete(0).
    assert_eq!(
        QsResponse::decode(&hex::decode("00010002000000").unwrap()),
        Ok(QsResponse::new(QsResponseBody::Page(QueuePage::default())))
    );
    // The shortest messages.
    assert_eq!(
        hex::encode(
            DsRequest {
                version: ProtocolVersion::V1,
                body: DsRequestBody::RequestGroupId,
                auth: DsAuthData::Anonymous,
            }
            .encode()
            .unwrap()
        ),
        "0001000000"
    );
    assert_eq!(
        DsResponse::decode(&hex::decode("00010000").unwrap()),
        Ok(DsResponse::new(DsResponseBody::Ok))
    );
    assert_eq!(
        DsFanoutResponse::decode(&hex::decode("00010000").unwrap()),
        Ok(DsFanoutResponse {
            version: ProtocolVersion::V1,
            body: DsFanoutResponseBody::Ok
        })
    );
    // A non-minimal varint length (RFC 9420 §2.1.2) is refused.
    let send = |len: &str| {
        hex::decode(format!("0001000a{len}00")).map(|b| DsRequest::decode(&b).map(drop))
    };
    assert_eq!(send("00").unwrap(), Ok(()));
    assert!(matches!(
        send("4000").unwrap(),
        Err(WireError::Malformed(_))
    ));
    // A length prefix claiming ~1 GiB with nothing behind it.
    assert!(matches!(
        DsRequest::decode(&hex::decode("0001000abfffffff").unwrap()),
        Err(WireError::Malformed(_))
    ));
    // The longest domain fits; an identifier on it may not.
    let longest = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    let d = Domain::new(&longest).unwrap();
    let enc = d.tls_serialize_detached().unwrap();
    assert_eq!(enc.len(), 254);
    assert_eq!(Domain::tls_deserialize_exact(&enc), Ok(d));
    // A 255-byte group id (the most opaque<0..255> holds) round trips.
    let g = GroupId::new(&format!("{}@{}", "g".repeat(63), &longest[..191])).unwrap();
    assert_eq!(g.as_str().len(), 255);
    let enc = g.tls_serialize_detached().unwrap();
    assert_eq!(GroupId::tls_deserialize_exact(&enc), Ok(g));
    // One byte more is refused by the constructor (the wire's one-byte
    // length cannot express it).
    let too_long = format!("{}@{}", "g".repeat(64), &longest[..191]);
    assert_eq!(too_long.len(), 256);
    assert!(GroupId::new(&too_long).is_err());
}
