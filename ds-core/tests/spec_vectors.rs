//! The test vectors in `spec/vectors/` and the tables of `spec/protocol.md`
//! checked against the wire code.
//!
//! Every vector is built here in code. The test encodes it and compares the
//! bytes with the file's `hex`, decodes the file's `hex` and compares the value
//! with the built one, and encodes the decoded value again. So a change of the
//! encoding, of the decoder, or of a file makes a test fail.
//!
//! `UPDATE_SPEC_VECTORS=1 cargo test -p ds-core --test spec_vectors` writes
//! the files from the code instead of comparing (review the diff!).
//!
//! The opaque MLS fields hold placeholder bytes (`seq`): the vectors test the
//! framing of this protocol, not MLS. Signatures are real Ed25519 signatures by
//! the RFC 8032 §7.1 TEST 1 key, so implementers can check their signed content.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Once;

use ds_core::federation::check_voucher;
use ds_core::queue::{
    qs_signature_content, verify_qs_request, verify_registered_client, verify_vouched_client,
};
use ds_core::wire::fanout::FANOUT_SIGNATURE_LABEL;
use ds_core::wire::*;
use openmls::prelude::SignContent;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::types::{HashType, SignatureScheme};
use serde::{Deserialize, Serialize};
use tls_codec::{Deserialize as _, Serialize as _};

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

fn vectors_dir() -> PathBuf {
    spec_dir().join("vectors")
}

fn protocol_md() -> String {
    let path = spec_dir().join("protocol.md");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn updating() -> bool {
    std::env::var("UPDATE_SPEC_VECTORS").is_ok_and(|v| v == "1")
}

/// One file of `spec/vectors/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorFile {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    description: String,
    hex: String,
    /// For signed messages: the exact bytes the signature is computed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_content_hex: Option<String>,
    /// For signed messages: the Ed25519 public key that verifies the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature_public_key_hex: Option<String>,
}

/// With `UPDATE_SPEC_VECTORS=1`: writes every vector file, once per test run,
/// before any test reads them.
fn write_vector_files_if_updating() {
    static WRITE: Once = Once::new();
    WRITE.call_once(|| {
        if !updating() {
            return;
        }
        fs::create_dir_all(vectors_dir()).unwrap();
        for v in all_vectors() {
            let path = vectors_dir().join(format!("{}.json", v.name));
            let text = serde_json::to_string_pretty(&v.file()).unwrap() + "\n";
            fs::write(&path, text).unwrap();
        }
    });
}

fn read_vector_files() -> BTreeMap<String, VectorFile> {
    write_vector_files_if_updating();
    let dir = vectors_dir();
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
    {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = fs::read_to_string(&path).unwrap();
            let file: VectorFile = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not a vector file: {e}", path.display()));
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert_eq!(
                file.name,
                stem,
                "{}: name differs from file name",
                path.display()
            );
            out.insert(stem, file);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Values of every top-level type
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Request(DsRequest),
    Auth(DsAuthData),
    Response(DsResponse),
    FanoutRequest(DsFanoutRequest),
    FanoutResponse(DsFanoutResponse),
    Error(DsError),
    QsRequest(QsRequest),
    QsResponse(QsResponse),
    Voucher(ClientVoucher),
}

impl Value {
    fn type_name(&self) -> &'static str {
        match self {
            Self::Request(_) => "DSRequest",
            Self::Auth(_) => "DSAuthData",
            Self::Response(_) => "DSResponse",
            Self::FanoutRequest(_) => "DSFanoutRequest",
            Self::FanoutResponse(_) => "DSFanoutResponse",
            Self::Error(_) => "DSError",
            Self::QsRequest(_) => "QSRequest",
            Self::QsResponse(_) => "QSResponse",
            Self::Voucher(_) => "ClientVoucher",
        }
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Self::Request(v) => v.encode(),
            Self::Auth(v) => v.tls_serialize_detached(),
            Self::Response(v) => v.encode(),
            Self::FanoutRequest(v) => v.encode(),
            Self::FanoutResponse(v) => v.encode(),
            Self::Error(v) => v.tls_serialize_detached(),
            Self::QsRequest(v) => v.encode(),
            Self::QsResponse(v) => v.encode(),
            Self::Voucher(v) => v.tls_serialize_detached(),
        }
        .unwrap()
    }

    /// Decodes with the strict decoder of `type_name`.
    fn decode(type_name: &str, bytes: &[u8]) -> Result<Self, String> {
        let e = |e: WireError| e.to_string();
        let t = |e: tls_codec::Error| e.to_string();
        Ok(match type_name {
            "DSRequest" => Self::Request(DsRequest::decode(bytes).map_err(e)?),
            "DSAuthData" => Self::Auth(DsAuthData::tls_deserialize_exact(bytes).map_err(t)?),
            "DSResponse" => Self::Response(DsResponse::decode(bytes).map_err(e)?),
            "DSFanoutRequest" => Self::FanoutRequest(DsFanoutRequest::decode(bytes).map_err(e)?),
            "DSFanoutResponse" => Self::FanoutResponse(DsFanoutResponse::decode(bytes).map_err(e)?),
            "DSError" => Self::Error(DsError::tls_deserialize_exact(bytes).map_err(t)?),
            "QSRequest" => Self::QsRequest(QsRequest::decode(bytes).map_err(e)?),
            "QSResponse" => Self::QsResponse(QsResponse::decode(bytes).map_err(e)?),
            "ClientVoucher" => {
                Self::Voucher(ClientVoucher::tls_deserialize_exact(bytes).map_err(t)?)
            }
            other => return Err(format!("unknown vector type {other:?}")),
        })
    }
}

/// A vector as built in code.
#[derive(Debug)]
struct Vector {
    name: String,
    description: String,
    value: Value,
    signed_content: Option<Vec<u8>>,
    /// The public key that verifies the signature over `signed_content`.
    signer_public: &'static str,
}

impl Vector {
    fn new(name: &str, description: impl Into<String>, value: Value) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            value,
            signed_content: None,
            signer_public: TEST_PUBLIC,
        }
    }

    fn signed(mut self, content: Vec<u8>) -> Self {
        self.signed_content = Some(content);
        self
    }

    /// Signed by the DS key (RFC 8032 TEST 2) rather than the client key.
    fn signed_by_ds(mut self, content: Vec<u8>) -> Self {
        self.signed_content = Some(content);
        self.signer_public = DS_PUBLIC;
        self
    }

    fn file(&self) -> VectorFile {
        VectorFile {
            name: self.name.clone(),
            ty: self.value.type_name().into(),
            description: self.description.clone(),
            hex: hex::encode(self.value.encode()),
            signed_content_hex: self.signed_content.as_ref().map(hex::encode),
            signature_public_key_hex: self
                .signed_content
                .as_ref()
                .map(|_| self.signer_public.into()),
        }
    }
}

// ---------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------

/// RFC 8032 §7.1 TEST 1 secret key (the 32-byte seed).
const TEST_SECRET: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
/// Its public key.
const TEST_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/// RFC 8032 §7.1 TEST 2 secret key: the vectors' DS signing key (vouchers).
const DS_SECRET: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
/// Its public key.
const DS_PUBLIC: &str = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

fn ed25519_sign_with(secret: &str, content: &[u8]) -> Vec<u8> {
    let provider = OpenMlsRustCrypto::default();
    provider
        .crypto()
        .sign(
            SignatureScheme::ED25519,
            content,
            &hex::decode(secret).unwrap(),
        )
        .unwrap()
}

fn ed25519_sign(content: &[u8]) -> Vec<u8> {
    ed25519_sign_with(TEST_SECRET, content)
}

fn ed25519_verify_with(public: &str, content: &[u8], signature: &[u8]) -> bool {
    let provider = OpenMlsRustCrypto::default();
    provider
        .crypto()
        .verify_signature(
            SignatureScheme::ED25519,
            content,
            &hex::decode(public).unwrap(),
            signature,
        )
        .is_ok()
}

/// The DS key's id: the first 8 bytes of SHA-256 of the raw public key.
fn ds_key_id() -> ShortBytes {
    let provider = OpenMlsRustCrypto::default();
    let digest = provider
        .crypto()
        .hash(HashType::Sha2_256, &hex::decode(DS_PUBLIC).unwrap())
        .unwrap();
    short(&digest[..8])
}

/// The DS key as `ds-b.example` publishes it.
fn ds_signing_key() -> DsSigningKey {
    DsSigningKey {
        key_id: ds_key_id(),
        signature_scheme: SIGNATURE_SCHEME_ED25519,
        public_key: Bytes::new(hex::decode(DS_PUBLIC).unwrap()).unwrap(),
        not_after: 0,
    }
}

/// Lifetime of the vectors' voucher: 30 days.
const VOUCHER_TTL: u64 = 30 * 24 * 3600;

/// `ds-b.example`'s voucher for `bob@ds-b.example/phone` and the TEST 1
/// key, signed by the TEST 2 key.
fn voucher() -> ClientVoucher {
    let mut v = ClientVoucher {
        issuer: Domain::new("ds-b.example").unwrap(),
        key_id: ds_key_id(),
        client_id: client("bob@ds-b.example/phone"),
        signature_scheme: SIGNATURE_SCHEME_ED25519,
        signature_key: Bytes::new(hex::decode(TEST_PUBLIC).unwrap()).unwrap(),
        not_after: REQUEST_TIME + VOUCHER_TTL,
        signature: ShortBytes::default(),
    };
    v.signature = short(&ed25519_sign_with(DS_SECRET, &v.signed_content().unwrap()));
    v
}

fn voucher_words() -> String {
    format!(
        "ClientVoucher {{ issuer = \"ds-b.example\", key_id = {} (the first 8 bytes of SHA-256 \
         of the DS public key {DS_PUBLIC}, RFC 8032 TEST 2), client_id = \
         \"bob@ds-b.example/phone\", signature_scheme = 0x0807 (ed25519), signature_key = \
         {TEST_PUBLIC} (RFC 8032 TEST 1), not_after = {}, signature = Ed25519 signature by the \
         TEST 2 key over \"MIMI DS ClientVoucher\\0\" followed by the encoding of every field \
         before the signature }}",
        hex::encode(ds_key_id().as_slice()),
        REQUEST_TIME + VOUCHER_TTL
    )
}

/// `len` bytes counting up from `start` (wrapping): deterministic placeholders.
fn seq(start: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| start.wrapping_add(i as u8)).collect()
}

fn bytes<const N: usize>(start: u8, len: usize) -> Bytes<N> {
    Bytes::new(seq(start, len)).unwrap()
}

fn short(b: &[u8]) -> ShortBytes {
    ShortBytes::new(b.to_vec()).unwrap()
}

fn group() -> GroupId {
    GroupId::new("0f3a-77@ds-a.example").unwrap()
}

fn client(s: &str) -> ClientId {
    ClientId::new(s).unwrap()
}

/// A commit with its PartialGroupInfo, all placeholders.
fn group_update() -> MlsGroupUpdate {
    MlsGroupUpdate {
        commit: bytes(0x00, 16),
        partial_group_info: PartialGroupInfo {
            group_info_extensions: bytes(0x20, 8),
            signature: bytes(0x40, 64),
        },
    }
}

const GROUP_UPDATE_WORDS: &str = "group_update = MLSGroupUpdate { commit = 16 bytes 0x00..0x0f \
     (placeholder for an MLSMessage holding a PublicMessage commit), partial_group_info = \
     PartialGroupInfo { group_info_extensions = 8 bytes 0x20..0x27, signature = 64 bytes \
     0x40..0x7f (a two-byte length 0x4040) } }";

/// `SignContent { "MLS 1.0 " + label, content }` built by hand (RFC 9420 §5.1.2).
fn sign_content_by_hand(label: &str, content: &[u8]) -> Vec<u8> {
    fn varint(n: usize, out: &mut Vec<u8>) {
        if n < 0x40 {
            out.push(n as u8);
        } else if n < 0x4000 {
            out.extend_from_slice(&(n as u16 | 0x4000).to_be_bytes());
        } else {
            out.extend_from_slice(&(n as u32 | 0x8000_0000).to_be_bytes());
        }
    }
    let label = format!("MLS 1.0 {label}");
    let mut out = Vec::new();
    varint(label.len(), &mut out);
    out.extend_from_slice(label.as_bytes());
    varint(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

/// Who signs a request: a member (ClientSignature), a joiner
/// (JoinerSignature) or a registered client (RegisteredClient).
#[derive(Debug, Clone)]
enum Signer {
    Member(u32),
    Joiner(ShortBytes),
    Registered(ClientId, u64, ShortBytes),
    Vouched(ClientVoucher, u64, ShortBytes),
}

/// The label and the TBS of the signature `signer` makes over `body`.
fn signature_input(signer: &Signer, body: &DsRequestBody) -> (&'static str, Vec<u8>) {
    match signer {
        Signer::Member(index) => (
            CLIENT_SIGNATURE_LABEL,
            client_signature_tbs(ProtocolVersion::V1, body, *index).unwrap(),
        ),
        Signer::Joiner(kp_ref) => (
            JOINER_SIGNATURE_LABEL,
            joiner_signature_tbs(ProtocolVersion::V1, body, kp_ref).unwrap(),
        ),
        Signer::Registered(client_id, timestamp, nonce) => (
            REGISTERED_CLIENT_LABEL,
            registered_client_tbs(ProtocolVersion::V1, body, client_id, *timestamp, nonce).unwrap(),
        ),
        Signer::Vouched(voucher, timestamp, nonce) => (
            VOUCHED_CLIENT_LABEL,
            vouched_client_tbs(ProtocolVersion::V1, body, voucher, *timestamp, nonce).unwrap(),
        ),
    }
}

/// A version-1 request signed by the test key, and the signed content.
fn signed_request(body: DsRequestBody, signer: Signer) -> (DsRequest, Vec<u8>) {
    let (label, tbs) = signature_input(&signer, &body);
    let content = SignContent::new(label, tbs.clone().into())
        .tls_serialize_detached()
        .unwrap();
    assert_eq!(
        content,
        sign_content_by_hand(label, &tbs),
        "openmls SignContent and the RFC 9420 layout disagree"
    );
    let signature = short(&ed25519_sign(&content));
    let auth = match signer {
        Signer::Member(sender_index) => DsAuthData::ClientSignature(ClientSignature {
            sender_index,
            signature,
        }),
        Signer::Joiner(key_package_ref) => DsAuthData::JoinerSignature(JoinerSignature {
            key_package_ref,
            signature,
        }),
        Signer::Registered(client_id, timestamp, nonce) => {
            DsAuthData::RegisteredClient(RegisteredClientSignature {
                client_id,
                timestamp,
                nonce,
                signature,
            })
        }
        Signer::Vouched(voucher, timestamp, nonce) => {
            DsAuthData::VouchedClient(VouchedClientSignature {
                voucher,
                timestamp,
                nonce,
                signature,
            })
        }
    };
    let request = DsRequest {
        version: ProtocolVersion::V1,
        body,
        auth,
    };
    (request, content)
}

fn anonymous_request(body: DsRequestBody) -> DsRequest {
    DsRequest {
        version: ProtocolVersion::V1,
        body,
        auth: DsAuthData::Anonymous,
    }
}

fn signature_words(signer: &Signer) -> String {
    match signer {
        Signer::Member(i) => format!(
            "auth = client_signature(1) {{ sender_index = {i}, signature = Ed25519 signature \
             (RFC 8032 TEST 1 key) over SignContent {{ label = \"MLS 1.0 \
             {CLIENT_SIGNATURE_LABEL}\", content = ClientSignatureTBS {{ version 1, the request \
             body, sender_index {i} }} }} (signed_content_hex) }}"
        ),
        Signer::Joiner(r) => format!(
            "auth = joiner_signature(2) {{ key_package_ref = {} ({} bytes, placeholder), \
             signature = Ed25519 signature (RFC 8032 TEST 1 key) over SignContent {{ label = \
             \"MLS 1.0 {JOINER_SIGNATURE_LABEL}\", content = JoinerSignatureTBS {{ version 1, \
             the request body, the key_package_ref }} }} (signed_content_hex) }}",
            hex::encode(r.as_slice()),
            r.as_slice().len()
        ),
        Signer::Registered(client_id, timestamp, nonce) => format!(
            "auth = registered_client(3) {{ client_id = \"{client_id}\", timestamp = \
             {timestamp}, nonce = {} ({} bytes, placeholder), signature = Ed25519 signature \
             (RFC 8032 TEST 1 key, standing for the client's registered key) over SignContent \
             {{ label = \"MLS 1.0 {REGISTERED_CLIENT_LABEL}\", content = RegisteredClientTBS {{ \
             version 1, the request body, client_id, timestamp, nonce }} }} \
             (signed_content_hex) }}",
            hex::encode(nonce.as_slice()),
            nonce.as_slice().len()
        ),
        Signer::Vouched(_, timestamp, nonce) => format!(
            "auth = vouched_client(4) {{ voucher = {}, timestamp = {timestamp}, nonce = {} ({} \
             bytes, placeholder), signature = Ed25519 signature (RFC 8032 TEST 1 key, the \
             vouched key) over SignContent {{ label = \"MLS 1.0 {VOUCHED_CLIENT_LABEL}\", \
             content = VouchedClientTBS {{ version 1, the request body, voucher, timestamp, \
             nonce }} }} (signed_content_hex) }}",
            voucher_words(),
            hex::encode(nonce.as_slice()),
            nonce.as_slice().len()
        ),
    }
}

/// A request vector whose body is signed by `signer`.
fn signed_vector(name: &str, body: DsRequestBody, signer: Signer, words: &str) -> Vector {
    let description = format!(
        "DSRequest version 1, {words}; {}.",
        signature_words(&signer)
    );
    let (request, content) = signed_request(body, signer);
    Vector::new(name, description, Value::Request(request)).signed(content)
}

fn anonymous_vector(name: &str, body: DsRequestBody, words: &str) -> Vector {
    Vector::new(
        name,
        format!("DSRequest version 1, {words}; auth = anonymous(0)."),
        Value::Request(anonymous_request(body)),
    )
}

fn response(name: &str, body: DsResponseBody, words: &str) -> Vector {
    Vector::new(
        name,
        format!("DSResponse version 1, {words}."),
        Value::Response(DsResponse::new(body)),
    )
}

// ---------------------------------------------------------------------------
// The vectors
// ---------------------------------------------------------------------------

fn request_vectors() -> Vec<Vector> {
    use DsRequestBody as B;
    let welcomes = || List::new(vec![bytes(0x80, 16), bytes(0x90, 16)]).unwrap();
    vec![
        anonymous_vector(
            "request-request_group_id",
            B::RequestGroupId,
            "ds_request_group_id(0) (no data)",
        ),
        anonymous_vector(
            "request-create_group",
            B::CreateGroup(CreateGroupRequest {
                group_id: group(),
                group_kind: GroupKind::Regular,
                leaf_node: bytes(0xa0, 100),
                group_info: bytes(0x10, 16),
            }),
            "ds_create_group(1) CreateGroupRequest { group_id = \"0f3a-77@ds-a.example\", \
             group_kind = regular(0), leaf_node = 100 bytes 0xa0..0x03 (placeholder LeafNode, \
             two-byte length 0x4064), group_info = 16 bytes 0x10..0x1f (placeholder MLSMessage \
             holding the GroupInfo of epoch 0) }",
        ),
        signed_vector(
            "request-delete_group",
            B::DeleteGroup(GroupUpdateRequest {
                group_update: group_update(),
            }),
            Signer::Member(0),
            &format!("ds_delete_group(2) GroupUpdateRequest {{ {GROUP_UPDATE_WORDS} }}"),
        ),
        signed_vector(
            "request-add_users",
            B::AddUsers(AddRequest {
                group_update: group_update(),
                welcomes: welcomes(),
            }),
            Signer::Member(0),
            &format!(
                "ds_add_users(3) AddRequest {{ {GROUP_UPDATE_WORDS}, welcomes = [16 bytes \
                 0x80..0x8f, 16 bytes 0x90..0x9f] (placeholder MLSMessages holding Welcomes) }}"
            ),
        ),
        signed_vector(
            "request-remove_users",
            B::RemoveUsers(GroupUpdateRequest {
                group_update: group_update(),
            }),
            Signer::Member(1),
            &format!("ds_remove_users(4) GroupUpdateRequest {{ {GROUP_UPDATE_WORDS} }}"),
        ),
        signed_vector(
            "request-add_clients",
            B::AddClients(AddRequest {
                group_update: group_update(),
                welcomes: List::new(vec![bytes(0x80, 16)]).unwrap(),
            }),
            Signer::Member(1),
            &format!(
                "ds_add_clients(5) AddRequest {{ {GROUP_UPDATE_WORDS}, welcomes = [16 bytes \
                 0x80..0x8f] (placeholder MLSMessage holding a Welcome) }}"
            ),
        ),
        signed_vector(
            "request-remove_clients",
            B::RemoveClients(GroupUpdateRequest {
                group_update: group_update(),
            }),
            Signer::Member(2),
            &format!("ds_remove_clients(6) GroupUpdateRequest {{ {GROUP_UPDATE_WORDS} }}"),
        ),
        signed_vector(
            "request-self_remove_client",
            B::SelfRemoveClient(SelfRemoveClientRequest {
                proposal: bytes(0x30, 16),
            }),
            Signer::Member(2),
            "ds_self_remove_client(7) SelfRemoveClientRequest { proposal = 16 bytes 0x30..0x3f \
             (placeholder MLSMessage holding a PublicMessage Remove proposal) }",
        ),
        signed_vector(
            "request-update_client",
            B::UpdateClient(GroupUpdateRequest {
                group_update: group_update(),
            }),
            Signer::Member(3),
            &format!("ds_update_client(8) GroupUpdateRequest {{ {GROUP_UPDATE_WORDS} }}"),
        ),
        anonymous_vector(
            "request-external_join",
            B::ExternalJoin(GroupUpdateRequest {
                group_update: group_update(),
            }),
            &format!(
                "ds_external_join(9) GroupUpdateRequest {{ {GROUP_UPDATE_WORDS} }} (the commit \
                 would be a NewMemberCommit)"
            ),
        ),
        signed_vector(
            "request-send_message",
            B::SendMessage(SendMessageRequest {
                application_message: bytes(0x50, 16),
            }),
            Signer::Member(3),
            "ds_send_message(10) SendMessageRequest { application_message = 16 bytes \
             0x50..0x5f (placeholder MLSMessage holding a PrivateMessage) }",
        ),
        anonymous_vector(
            "request-signature_public_key",
            B::SignaturePublicKey,
            "ds_signature_public_key(11) (no data)",
        ),
        anonymous_vector(
            "request-key_packages",
            B::KeyPackages(KeyPackagesRequest {
                client_ids: List::new(vec![
                    client("bob@ds-b.example/phone"),
                    client("bob@ds-b.example/tablet"),
                ])
                .unwrap(),
            }),
            "ds_key_packages(12) KeyPackagesRequest { client_ids = [\"bob@ds-b.example/phone\", \
             \"bob@ds-b.example/tablet\"] }",
        ),
        anonymous_vector(
            "request-connection_key_packages",
            B::ConnectionKeyPackages(ConnectionKeyPackagesRequest {
                user_id: UserId::new("bob@ds-b.example").unwrap(),
            }),
            "ds_connection_key_packages(13) ConnectionKeyPackagesRequest { user_id = \
             \"bob@ds-b.example\" }",
        ),
        anonymous_vector(
            "request-user_key_packages",
            B::UserKeyPackages(UserKeyPackagesRequest {
                user_id: UserId::new("bob@ds-b.example").unwrap(),
            }),
            "ds_user_key_packages(16) UserKeyPackagesRequest { user_id = \
             \"bob@ds-b.example\" }",
        ),
        signed_vector(
            "request-welcome_info",
            B::WelcomeInfo(WelcomeInfoRequest {
                group_id: group(),
                epoch: 7,
            }),
            Signer::Joiner(short(&seq(0xf0, 32))),
            "ds_welcome_info(14) WelcomeInfoRequest { group_id = \"0f3a-77@ds-a.example\", \
             epoch = 7 } (the joiner names the key package it was added with in epoch 7)",
        ),
        signed_vector(
            "request-external_commit_info",
            B::ExternalCommitInfo(ExternalCommitInfoRequest { group_id: group() }),
            Signer::Registered(
                client("alice@ds-a.example/tablet"),
                REQUEST_TIME,
                short(&seq(0xb0, 16)),
            ),
            "ds_external_commit_info(15) ExternalCommitInfoRequest { group_id = \
             \"0f3a-77@ds-a.example\" } (a new device of a member user asks its home DS)",
        ),
    ]
}

fn auth_vectors() -> Vec<Vector> {
    vec![
        Vector::new(
            "auth-anonymous",
            "DSAuthData anonymous(0) (no data).",
            Value::Auth(DsAuthData::Anonymous),
        ),
        Vector::new(
            "auth-client_signature",
            "DSAuthData client_signature(1) { sender_index = 5, signature = 64 bytes 0x40..0x7f \
             (placeholder; one-byte length 0x40) }.",
            Value::Auth(DsAuthData::ClientSignature(ClientSignature {
                sender_index: 5,
                signature: short(&seq(0x40, 64)),
            })),
        ),
        Vector::new(
            "auth-joiner_signature",
            "DSAuthData joiner_signature(2) { key_package_ref = 32 bytes 0xf0..0x0f \
             (placeholder KeyPackageRef), signature = 64 bytes 0x40..0x7f (placeholder) }.",
            Value::Auth(DsAuthData::JoinerSignature(JoinerSignature {
                key_package_ref: short(&seq(0xf0, 32)),
                signature: short(&seq(0x40, 64)),
            })),
        ),
        Vector::new(
            "auth-registered_client",
            "DSAuthData registered_client(3) { client_id = \"alice@ds-a.example/tablet\", \
             timestamp = 1800000000 (0x6b49d200), nonce = 16 bytes 0xb0..0xbf (placeholder), \
             signature = 64 bytes 0x40..0x7f (placeholder) }.",
            Value::Auth(DsAuthData::RegisteredClient(RegisteredClientSignature {
                client_id: client("alice@ds-a.example/tablet"),
                timestamp: REQUEST_TIME,
                nonce: short(&seq(0xb0, 16)),
                signature: short(&seq(0x40, 64)),
            })),
        ),
        signed_vector(
            "auth-vouched_client",
            DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest { group_id: group() }),
            Signer::Vouched(voucher(), REQUEST_TIME, short(&seq(0xb0, 16))),
            "ds_external_commit_info(15) ExternalCommitInfoRequest { group_id = \
             \"0f3a-77@ds-a.example\" } (a client of ds-b.example asks the owning DS \
             ds-a.example)",
        ),
    ]
}

fn voucher_vectors() -> Vec<Vector> {
    let v = voucher();
    let content = v.signed_content().unwrap();
    vec![
        Vector::new(
            "client-voucher",
            format!(
                "{} (signed_content_hex; signature_public_key_hex is the DS key).",
                voucher_words()
            ),
            Value::Voucher(v),
        )
        .signed_by_ds(content),
        qs_vector(
            "qs-request-client_voucher",
            QsRequestBody::ClientVoucher,
            "bob@ds-b.example/phone",
            short(&seq(0xc0, 16)),
            "client_voucher(6) (no data; the client asks its home DS for a voucher of its \
             registered key)",
        ),
        Vector::new(
            "qs-response-voucher",
            format!("QSResponse version 1, voucher(4) {}.", voucher_words()),
            Value::QsResponse(QsResponse::new(QsResponseBody::Voucher(voucher()))),
        ),
    ]
}

fn response_vectors() -> Vec<Vector> {
    use DsResponseBody as R;
    let key_package = |start| DsKeyPackage::MlsKeyPackage(bytes(start, 16));
    vec![
        response("response-ok", R::Ok, "ok(0) (no data)"),
        response(
            "response-error",
            R::Error(DsError::new(
                DsErrorCode::WrongEpoch,
                "commit is for epoch 6, the group is at 7",
            )),
            "error(1) DSError { code = WrongEpoch(52), detail = \"commit is for epoch 6, the \
             group is at 7\" }",
        ),
        response(
            "response-group_id",
            R::GroupId(group()),
            "group_id(2) \"0f3a-77@ds-a.example\"",
        ),
        response(
            "response-welcome_info",
            R::WelcomeInfo(WelcomeInfo {
                ratchet_tree: bytes(0x00, 300),
            }),
            "welcome_info(3) WelcomeInfo { ratchet_tree = 300 bytes 0x00, 0x01, .., 0xff, \
             0x00, .., 0x2b (placeholder ratchet tree; two-byte length 0x412c) }",
        ),
        response(
            "response-external_commit_info",
            R::ExternalCommitInfo(ExternalCommitInfo {
                group_info: bytes(0x10, 16),
                ratchet_tree: bytes(0xc0, 40),
                proposals: List::new(vec![bytes(0x30, 16), bytes(0x60, 8)]).unwrap(),
            }),
            "external_commit_info(4) ExternalCommitInfo { group_info = 16 bytes 0x10..0x1f \
             (placeholder MLSMessage holding a GroupInfo), ratchet_tree = 40 bytes 0xc0..0xe7, \
             proposals = [16 bytes 0x30..0x3f, 8 bytes 0x60..0x67] (placeholder MLSMessages \
             holding proposals) }",
        ),
        response(
            "response-signature_public_key",
            R::SignaturePublicKey(SignaturePublicKeys {
                keys: List::new(vec![
                    DsSigningKey {
                        key_id: short(b"k2"),
                        signature_scheme: 0x0807,
                        public_key: Bytes::new(hex::decode(TEST_PUBLIC).unwrap()).unwrap(),
                        not_after: 0,
                    },
                    DsSigningKey {
                        key_id: short(b"k1"),
                        signature_scheme: 0x0807,
                        public_key: bytes(0xe0, 32),
                        not_after: 1_800_000_000,
                    },
                ])
                .unwrap(),
            }),
            &format!(
                "signature_public_key(5) SignaturePublicKeys {{ keys = [DSSigningKey {{ key_id = \
                 \"k2\", signature_scheme = 0x0807 (ed25519), public_key = {TEST_PUBLIC} (RFC \
                 8032 TEST 1), not_after = 0 (current key) }}, DSSigningKey {{ key_id = \"k1\", \
                 signature_scheme = 0x0807, public_key = 32 bytes 0xe0..0xff (placeholder), \
                 not_after = 1800000000 }}] }}"
            ),
        ),
        response(
            "response-key_packages",
            R::KeyPackages(KeyPackages {
                key_packages: List::new(vec![key_package(0xb0), key_package(0xd0)]).unwrap(),
            }),
            "key_packages(6) KeyPackages { key_packages = [mls_key_package(0) 16 bytes \
             0xb0..0xbf, mls_key_package(0) 16 bytes 0xd0..0xdf] (placeholder MLSMessages \
             holding KeyPackages) }",
        ),
        response(
            "response-connection_key_packages",
            R::ConnectionKeyPackages(KeyPackages {
                key_packages: List::new(vec![key_package(0xb0)]).unwrap(),
            }),
            "connection_key_packages(7) KeyPackages { key_packages = [mls_key_package(0) 16 \
             bytes 0xb0..0xbf] (placeholder MLSMessage holding a KeyPackage) }",
        ),
    ]
}

fn fanout_vectors() -> Vec<Vector> {
    let bob_phone = DsFanoutRecipient::ClientIdentifier(client("bob@ds-b.example/phone"));
    let bob_tablet = DsFanoutRecipient::ClientIdentifier(client("bob@ds-b.example/tablet"));
    let mut request = DsFanoutRequest {
        version: ProtocolVersion::V1,
        sender: Domain::new("ds-a.example").unwrap(),
        recipient_domain: Domain::new("ds-b.example").unwrap(),
        key_id: short(b"k2"),
        timestamp: 1_790_000_000,
        entries: List::new(vec![
            DsFanoutEntry {
                group_id: group(),
                sequence: 41,
                kind: FanoutEntryKind::GroupMessage,
                recipients: List::new(vec![bob_phone]).unwrap(),
                mls_message: bytes(0x50, 16),
            },
            DsFanoutEntry {
                group_id: group(),
                sequence: 42,
                kind: FanoutEntryKind::GroupMessage,
                recipients: List::new(vec![]).unwrap(),
                mls_message: bytes(0x00, 16),
            },
            DsFanoutEntry {
                group_id: group(),
                sequence: 42,
                kind: FanoutEntryKind::Welcome,
                recipients: List::new(vec![bob_tablet]).unwrap(),
                mls_message: bytes(0x80, 16),
            },
        ])
        .unwrap(),
        signature: ShortBytes::default(),
    };
    let content = request.signed_content().unwrap();
    request.signature = short(&ed25519_sign(&content));
    vec![
        Vector::new(
            "fanout-request",
            "DSFanoutRequest { version 1, sender = \"ds-a.example\", recipient_domain = \
             \"ds-b.example\", key_id = \"k2\", entries = [DSFanoutEntry { group_id = \
             \"0f3a-77@ds-a.example\", sequence = 41, kind = group_message(0), recipients = \
             [client_identifier(0) \"bob@ds-b.example/phone\"], mls_message = 16 bytes \
             0x50..0x5f (placeholder) }, DSFanoutEntry { same group, sequence = 42, kind = \
             group_message(0), recipients = [] (same as the previous entry of the group), \
             mls_message = 16 bytes 0x00..0x0f (placeholder commit) }, DSFanoutEntry { same \
             group, sequence = 42, kind = welcome(1), recipients = [client_identifier(0) \
             \"bob@ds-b.example/tablet\"], mls_message = 16 bytes 0x80..0x8f (placeholder \
             Welcome) }], signature = Ed25519 signature (RFC 8032 TEST 1 key) over \
             \"MIMI DS FanoutRequest\\0\" followed by the encoding of every field before the \
             signature (signed_content_hex) }.",
            Value::FanoutRequest(request),
        )
        .signed(content),
        Vector::new(
            "fanout-response-ok",
            "DSFanoutResponse { version 1, body = ok(0) }.",
            Value::FanoutResponse(DsFanoutResponse {
                version: ProtocolVersion::V1,
                body: DsFanoutResponseBody::Ok,
            }),
        ),
        Vector::new(
            "fanout-response-error",
            "DSFanoutResponse { version 1, body = error(1) DSError { code = Unauthorized(24), \
             detail = \"ds-a.example may not send for group 1@ds-c.example\" } }.",
            Value::FanoutResponse(DsFanoutResponse {
                version: ProtocolVersion::V1,
                body: DsFanoutResponseBody::Error(DsError::new(
                    DsErrorCode::Unauthorized,
                    "ds-a.example may not send for group 1@ds-c.example",
                )),
            }),
        ),
    ]
}

fn error_vectors() -> Vec<Vector> {
    vec![Vector::new(
        "error",
        "DSError { code = InvalidPartialGroupInfo(56), detail = \"the GroupInfo signature does \
         not verify for the new epoch\" }.",
        Value::Error(DsError::new(
            DsErrorCode::InvalidPartialGroupInfo,
            "the GroupInfo signature does not verify for the new epoch",
        )),
    )]
}

/// Time of the vectors' signed requests: 2027-01-15T08:00:00Z.
const REQUEST_TIME: u64 = 1_800_000_000;

/// A version-1 queue request by `client_id`, signed by the test key.
fn qs_vector(
    name: &str,
    body: QsRequestBody,
    client_id: &str,
    nonce: ShortBytes,
    words: &str,
) -> Vector {
    let client_id = client(client_id);
    let content =
        qs_signature_content(ProtocolVersion::V1, &body, &client_id, REQUEST_TIME, &nonce).unwrap();
    let tbs = qs_request_tbs(ProtocolVersion::V1, &body, &client_id, REQUEST_TIME, &nonce).unwrap();
    assert_eq!(content, sign_content_by_hand(QS_REQUEST_LABEL, &tbs));
    let description = format!(
        "QSRequest version 1, {words}; auth = QSAuth {{ client_id = \"{client_id}\", timestamp \
         = {REQUEST_TIME}, nonce = {} ({} bytes, placeholder), signature = Ed25519 signature \
         (RFC 8032 TEST 1 key) over SignContent {{ label = \"MLS 1.0 {QS_REQUEST_LABEL}\", \
         content = QSRequestTBS {{ version 1, the request body, client_id, timestamp, nonce }} \
         }} (signed_content_hex) }}.",
        hex::encode(nonce.as_slice()),
        nonce.as_slice().len()
    );
    let request = QsRequest {
        version: ProtocolVersion::V1,
        body,
        auth: QsAuth {
            client_id,
            timestamp: REQUEST_TIME,
            nonce,
            signature: short(&ed25519_sign(&content)),
        },
    };
    Vector::new(name, description, Value::QsRequest(request)).signed(content)
}

fn queue_vectors() -> Vec<Vector> {
    let positions = QueuePositions {
        groups: List::new(vec![
            GroupPosition {
                group_id: group(),
                sequence: 41,
            },
            GroupPosition {
                group_id: GroupId::new("9c-2@ds-a.example").unwrap(),
                sequence: 0,
            },
        ])
        .unwrap(),
        inbox: 3,
    };
    let page = QueuePage {
        inbox: List::new(vec![InboxMessage {
            sequence: 4,
            message: bytes(0x10, 16),
        }])
        .unwrap(),
        group_entries: List::new(vec![
            GroupLogEntry {
                group_id: group(),
                sequence: 42,
                sender: Some(client("bob@ds-b.example/phone")),
                message: bytes(0x30, 16),
            },
            GroupLogEntry {
                group_id: group(),
                sequence: 43,
                sender: None,
                message: bytes(0x50, 8),
            },
        ])
        .unwrap(),
        end: PageEnd::More,
    };
    vec![
        qs_vector(
            "qs-request-register_client",
            QsRequestBody::RegisterClient(RegisterClientRequest {
                signature_scheme: SIGNATURE_SCHEME_ED25519,
                signature_key: Bytes::new(hex::decode(TEST_PUBLIC).unwrap()).unwrap(),
                registration_token: short(&seq(0xe0, 8)),
            }),
            "alice@ds-a.example/tablet",
            short(&seq(0xc0, 16)),
            "register_client(0) RegisterClientRequest { signature_scheme = ed25519 (0x0807), \
             signature_key = the 32-byte RFC 8032 TEST 1 public key (the key that signs this \
             request: proof of possession), registration_token = 8 bytes 0xe0..0xe7 \
             (placeholder) }",
        ),
        qs_vector(
            "qs-request-sync",
            QsRequestBody::Sync(SyncRequest {
                after: positions,
                max_entries: 100,
            }),
            "alice@ds-a.example/tablet",
            short(&seq(0xd0, 32)),
            "sync(1) SyncRequest { after = QueuePositions { groups = [{ group_id = \
             \"0f3a-77@ds-a.example\", sequence = 41 }, { group_id = \"9c-2@ds-a.example\", \
             sequence = 0 }], inbox = 3 }, max_entries = 100 }",
        ),
        Vector::new(
            "qs-response-page",
            "QSResponse version 1, page(2) QueuePage { inbox = [InboxMessage { sequence = 4, \
             message = 16 bytes 0x10..0x1f (placeholder Welcome) }], group_entries = \
             [GroupLogEntry { group_id = \"0f3a-77@ds-a.example\", sequence = 42, sender = \
             present \"bob@ds-b.example/phone\", message = 16 bytes 0x30..0x3f }, GroupLogEntry \
             { group_id = \"0f3a-77@ds-a.example\", sequence = 43, sender = absent (the DS's \
             own), message = 8 bytes 0x50..0x57 }], end = more(1) }.",
            Value::QsResponse(QsResponse::new(QsResponseBody::Page(page))),
        ),
    ]
}

fn all_vectors() -> Vec<Vector> {
    let mut v = request_vectors();
    v.extend(auth_vectors());
    v.extend(queue_vectors());
    v.extend(voucher_vectors());
    v.extend(response_vectors());
    v.extend(fanout_vectors());
    v.extend(error_vectors());
    v
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// Encoding, decoding and re-encoding of every vector agree with its file.
#[test]
fn vectors_match_the_code() {
    let vectors = all_vectors();
    let names: BTreeSet<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names.len(), vectors.len(), "two vectors share a name");

    let files = read_vector_files();
    let stray: Vec<&String> = files
        .keys()
        .filter(|k| !names.contains(k.as_str()))
        .collect();
    assert!(
        stray.is_empty(),
        "spec/vectors has files no vector builds: {stray:?}"
    );

    for v in &vectors {
        let file = files.get(&v.name).unwrap_or_else(|| {
            panic!(
                "spec/vectors/{}.json is missing (UPDATE_SPEC_VECTORS=1 writes it)",
                v.name
            )
        });
        let encoded = v.value.encode();
        assert_eq!(
            hex::encode(&encoded),
            file.hex,
            "{}: the encoding of the built value differs from the file",
            v.name
        );
        assert_eq!(
            file,
            &v.file(),
            "{}: the file differs from the code",
            v.name
        );

        let from_file = hex::decode(&file.hex).unwrap();
        let decoded = Value::decode(&file.ty, &from_file)
            .unwrap_or_else(|e| panic!("{}: the file's hex does not decode: {e}", v.name));
        assert_eq!(decoded, v.value, "{}: decodes to another value", v.name);
        assert_eq!(
            decoded.encode(),
            from_file,
            "{}: re-encoding the decoded value changes the bytes",
            v.name
        );
    }
}

/// Every `DSRequestType` number 0..=15 has a request vector file (read from the files).
#[test]
fn every_request_type_has_a_vector() {
    let mut seen = BTreeSet::new();
    for file in read_vector_files().values() {
        // `auth-*` requests show an authentication type, not an operation.
        if file.ty == "DSRequest" && file.name.starts_with("request-") {
            let b = hex::decode(&file.hex).unwrap();
            assert_eq!(&b[..2], &[0, 1], "{}: not version 1", file.name);
            let request_type = u16::from_be_bytes([b[2], b[3]]);
            let Value::Request(request) = Value::decode(&file.ty, &b).unwrap() else {
                unreachable!()
            };
            assert_eq!(
                file.name,
                format!("request-{}", request.body.operation().name()),
                "vector files of requests are named after their operation"
            );
            assert!(
                seen.insert(request_type),
                "two vectors of type {request_type}"
            );
        }
    }
    assert_eq!(seen, (0..=16).collect::<BTreeSet<u16>>());
}

/// Every `DSResponseType`, `DSAuthType` and `DSFanoutResponseType` has a vector.
#[test]
fn every_response_and_auth_type_has_a_vector() {
    let mut responses = BTreeSet::new();
    let mut auths = BTreeSet::new();
    let mut fanout_responses = BTreeSet::new();
    let mut others = BTreeSet::new();
    for file in read_vector_files().values() {
        let b = hex::decode(&file.hex).unwrap();
        match file.ty.as_str() {
            "DSResponse" => {
                responses.insert(u16::from_be_bytes([b[2], b[3]]));
            }
            "DSFanoutResponse" => {
                fanout_responses.insert(u16::from_be_bytes([b[2], b[3]]));
            }
            "DSAuthData" => {
                auths.insert(b[0]);
            }
            "DSRequest" if file.name.starts_with("auth-") => {
                let Value::Request(r) = Value::decode(&file.ty, &b).unwrap() else {
                    unreachable!()
                };
                auths.insert(r.auth.tls_serialize_detached().unwrap()[0]);
                others.insert(file.ty.clone());
            }
            t => {
                others.insert(t.to_owned());
            }
        }
    }
    assert_eq!(responses, (0..=7).collect());
    assert_eq!(auths, (0..=4).collect());
    assert_eq!(fanout_responses, (0..=1).collect());
    for t in [
        "DSRequest",
        "DSFanoutRequest",
        "DSError",
        "QSRequest",
        "QSResponse",
        "ClientVoucher",
    ] {
        assert!(others.contains(t), "no vector of type {t}");
    }
}

/// Signed vectors carry a signature that verifies over the stated content,
/// and that content is what the protocol says it is.
#[test]
fn signatures_in_the_vectors_verify() {
    // The key is RFC 8032 TEST 1: its signature of the empty message is known.
    assert_eq!(
        hex::encode(ed25519_sign(b"")),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e397\
         01cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
    // And the DS key is RFC 8032 TEST 2: its signature of 0x72 is known.
    assert_eq!(
        hex::encode(ed25519_sign_with(DS_SECRET, &[0x72])),
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f361\
         3d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
    );
    let mut checked = 0;
    for file in read_vector_files().values() {
        let b = hex::decode(&file.hex).unwrap();
        let value = Value::decode(&file.ty, &b).unwrap();
        let (content, signature) = match &value {
            Value::Request(r) => match &r.auth {
                DsAuthData::ClientSignature(cs) => {
                    let tbs = client_signature_tbs(r.version, &r.body, cs.sender_index).unwrap();
                    (
                        sign_content_by_hand(CLIENT_SIGNATURE_LABEL, &tbs),
                        cs.signature.as_slice().to_vec(),
                    )
                }
                DsAuthData::JoinerSignature(js) => {
                    let tbs =
                        joiner_signature_tbs(r.version, &r.body, &js.key_package_ref).unwrap();
                    (
                        sign_content_by_hand(JOINER_SIGNATURE_LABEL, &tbs),
                        js.signature.as_slice().to_vec(),
                    )
                }
                DsAuthData::RegisteredClient(rc) => {
                    // The DS-side check of ds-core accepts it at its time.
                    let key = hex::decode(TEST_PUBLIC).unwrap();
                    let client = verify_registered_client(r, &key, rc.timestamp, 0).unwrap();
                    assert_eq!(client, &rc.client_id);
                    let tbs = registered_client_tbs(
                        r.version,
                        &r.body,
                        &rc.client_id,
                        rc.timestamp,
                        &rc.nonce,
                    )
                    .unwrap();
                    (
                        sign_content_by_hand(REGISTERED_CLIENT_LABEL, &tbs),
                        rc.signature.as_slice().to_vec(),
                    )
                }
                DsAuthData::VouchedClient(vc) => {
                    // The owning DS's check accepts it at its time, with the
                    // issuer's published key.
                    let own = Domain::new("ds-a.example").unwrap();
                    let keys = [ds_signing_key()];
                    let client = verify_vouched_client(r, &keys, &own, vc.timestamp, 0).unwrap();
                    assert_eq!(client, &vc.voucher.client_id);
                    let tbs = vouched_client_tbs(
                        r.version,
                        &r.body,
                        &vc.voucher,
                        vc.timestamp,
                        &vc.nonce,
                    )
                    .unwrap();
                    (
                        sign_content_by_hand(VOUCHED_CLIENT_LABEL, &tbs),
                        vc.signature.as_slice().to_vec(),
                    )
                }
                DsAuthData::Anonymous => {
                    assert_eq!(file.signed_content_hex, None, "{}", file.name);
                    continue;
                }
            },
            Value::QsRequest(q) => {
                let a = &q.auth;
                let key = hex::decode(TEST_PUBLIC).unwrap();
                verify_qs_request(q, &key, a.timestamp, 0).unwrap();
                let tbs = qs_request_tbs(q.version, &q.body, &a.client_id, a.timestamp, &a.nonce)
                    .unwrap();
                (
                    sign_content_by_hand(QS_REQUEST_LABEL, &tbs),
                    a.signature.as_slice().to_vec(),
                )
            }
            Value::FanoutRequest(f) => {
                // The label, then the encoding up to the signature field.
                let sig_len = 1 + f.signature.as_slice().len();
                let mut content = FANOUT_SIGNATURE_LABEL.to_vec();
                content.extend_from_slice(&b[..b.len() - sig_len]);
                assert_eq!(content, f.signed_content().unwrap(), "{}", file.name);
                (content, f.signature.as_slice().to_vec())
            }
            Value::Voucher(v) => {
                // The label, then the encoding up to the signature field.
                check_voucher(
                    v,
                    v.client_id.as_str(),
                    v.signature_key.as_slice(),
                    &[ds_signing_key()],
                    REQUEST_TIME,
                )
                .unwrap();
                let sig_len = 1 + v.signature.as_slice().len();
                let mut content = b"MIMI DS ClientVoucher\0".to_vec();
                content.extend_from_slice(&b[..b.len() - sig_len]);
                assert_eq!(content, v.signed_content().unwrap(), "{}", file.name);
                (content, v.signature.as_slice().to_vec())
            }
            _ => continue,
        };
        let public = if matches!(value, Value::Voucher(_)) {
            DS_PUBLIC
        } else {
            TEST_PUBLIC
        };
        assert_eq!(
            file.signed_content_hex.as_deref(),
            Some(hex::encode(&content).as_str()),
            "{}: signed_content_hex",
            file.name
        );
        assert_eq!(
            file.signature_public_key_hex.as_deref(),
            Some(public),
            "{}",
            file.name
        );
        assert!(
            ed25519_verify_with(public, &content, &signature),
            "{}: signature does not verify",
            file.name
        );
        checked += 1;
    }
    // Eight ClientSignature requests, one JoinerSignature request, one
    // RegisteredClient request, one VouchedClient request, one fan-out
    // request, three queue requests, one voucher.
    assert_eq!(checked, 16);
}

/// The rules of "Versioning" in the spec hold for every versioned vector.
#[test]
fn decoders_are_strict_as_specified() {
    for file in read_vector_files().values() {
        let b = hex::decode(&file.hex).unwrap();

        let mut longer = b.clone();
        longer.push(0);
        assert!(
            Value::decode(&file.ty, &longer).is_err(),
            "{}: trailing byte accepted",
            file.name
        );
        assert!(
            Value::decode(&file.ty, &b[..b.len() - 1]).is_err(),
            "{}: truncated message accepted",
            file.name
        );

        if matches!(file.ty.as_str(), "DSAuthData" | "DSError" | "ClientVoucher") {
            continue;
        }
        // Version 2, with garbage after it: refused as unsupported before reading on.
        let unsupported = [0u8, 2, 0xff, 0xff, 0xff];
        let err = match file.ty.as_str() {
            "DSRequest" => DsRequest::decode(&unsupported).unwrap_err(),
            "DSResponse" => DsResponse::decode(&unsupported).unwrap_err(),
            "DSFanoutRequest" => DsFanoutRequest::decode(&unsupported).unwrap_err(),
            "DSFanoutResponse" => DsFanoutResponse::decode(&unsupported).unwrap_err(),
            "QSRequest" => QsRequest::decode(&unsupported).unwrap_err(),
            "QSResponse" => QsResponse::decode(&unsupported).unwrap_err(),
            t => panic!("unexpected type {t}"),
        };
        assert_eq!(err, WireError::UnsupportedVersion(2), "{}", file.name);
        assert_eq!(
            DsError::from(err).code,
            DsErrorCode::UnsupportedVersion,
            "{}",
            file.name
        );
    }

    // Unknown enum values are refused.
    let unknown_request = [0u8, 1, 0, 17, 0];
    assert_eq!(
        DsRequest::decode(&unknown_request),
        Err(WireError::UnknownValue(17))
    );
    let unknown_auth = [0u8, 1, 0, 0, 5];
    assert_eq!(
        DsRequest::decode(&unknown_auth),
        Err(WireError::UnknownValue(5))
    );
    let unknown_qs_request = [0u8, 1, 0, 7];
    assert_eq!(
        QsRequest::decode(&unknown_qs_request),
        Err(WireError::UnknownValue(7))
    );
    let unknown_qs_response = [0u8, 1, 0, 5];
    assert_eq!(
        QsResponse::decode(&unknown_qs_response),
        Err(WireError::UnknownValue(5))
    );
    let unknown_response = [0u8, 1, 0, 8];
    assert_eq!(
        DsResponse::decode(&unknown_response),
        Err(WireError::UnknownValue(8))
    );
    // A non-minimal length (0x4001 instead of 0x01) is refused.
    let non_minimal = [0u8, 1, 0, 10, 0x40, 0x01, 0xaa, 0];
    assert!(matches!(
        DsRequest::decode(&non_minimal),
        Err(WireError::Malformed(_))
    ));
    let minimal = [0u8, 1, 0, 10, 0x01, 0xaa, 0];
    assert!(DsRequest::decode(&minimal).is_ok());
}

/// The rows of the spec's "Error codes" table.
fn error_table(spec: &str) -> Vec<(u16, String)> {
    let mut in_section = false;
    let mut rows = Vec::new();
    for line in spec.lines() {
        if line.starts_with('#') {
            let title = line.trim_start_matches('#').trim();
            in_section = title.ends_with("Error codes");
            continue;
        }
        if !in_section || !line.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 {
            continue;
        }
        if let Ok(number) = cells[1].parse::<u16>() {
            rows.push((number, cells[2].to_owned()));
        }
    }
    rows
}

/// The spec's error-code table lists exactly `DsErrorCode::ALL`, in order.
#[test]
fn error_table_lists_every_code() {
    let rows = error_table(&protocol_md());
    let expected: Vec<(u16, String)> = DsErrorCode::ALL
        .iter()
        .map(|c| (c.number(), format!("{c:?}")))
        .collect();
    assert_eq!(
        rows, expected,
        "spec/protocol.md \"Error codes\" vs DsErrorCode::ALL"
    );
    // And each number is the one on the wire.
    for code in DsErrorCode::ALL {
        assert_eq!(
            code.tls_serialize_detached().unwrap(),
            code.number().to_be_bytes()
        );
    }
}

/// The enum numbers written in the spec are the ones the code puts on the wire.
#[test]
fn spec_enum_numbers_match_the_code() {
    let spec = protocol_md();
    let mut missing = Vec::new();
    let mut want = |text: String| {
        if !spec.contains(&text) {
            missing.push(text);
        }
    };
    for v in all_vectors() {
        let b = v.value.encode();
        match &v.value {
            Value::Request(r) => {
                let n = u16::from_be_bytes([b[2], b[3]]);
                want(format!("ds_{}({n})", r.body.operation().name()));
                let auth = r.auth.tls_serialize_detached().unwrap()[0];
                let name = match r.auth {
                    DsAuthData::Anonymous => "anonymous",
                    DsAuthData::ClientSignature(_) => "client_signature",
                    DsAuthData::JoinerSignature(_) => "joiner_signature",
                    DsAuthData::RegisteredClient(_) => "registered_client",
                    DsAuthData::VouchedClient(_) => "vouched_client",
                };
                want(format!("{name}({auth})"));
            }
            Value::Response(r) => {
                let n = u16::from_be_bytes([b[2], b[3]]);
                let name = match r.body {
                    DsResponseBody::Ok => "ok",
                    DsResponseBody::Error(_) => "error",
                    DsResponseBody::GroupId(_) => "group_id",
                    DsResponseBody::WelcomeInfo(_) => "welcome_info",
                    DsResponseBody::ExternalCommitInfo(_) => "external_commit_info",
                    DsResponseBody::SignaturePublicKey(_) => "signature_public_key",
                    DsResponseBody::KeyPackages(_) => "key_packages",
                    DsResponseBody::ConnectionKeyPackages(_) => "connection_key_packages",
                };
                want(format!("{name}({n})"));
            }
            Value::QsRequest(r) => {
                let n = u16::from_be_bytes([b[2], b[3]]);
                want(format!("{}({n})", r.body.name()));
            }
            Value::QsResponse(r) => {
                let n = u16::from_be_bytes([b[2], b[3]]);
                let name = match r.body {
                    QsResponseBody::Ok => "qs_ok",
                    QsResponseBody::Error(_) => "qs_error",
                    QsResponseBody::Page(_) => "page",
                    QsResponseBody::KeyPackageCount(_) => "key_package_count",
                    QsResponseBody::Voucher(_) => "voucher",
                };
                want(format!("{name}({n})"));
            }
            Value::FanoutResponse(r) => {
                let n = u16::from_be_bytes([b[2], b[3]]);
                let name = match r.body {
                    DsFanoutResponseBody::Ok => "fanout_ok",
                    DsFanoutResponseBody::Error(_) => "fanout_error",
                };
                want(format!("{name}({n})"));
            }
            _ => {}
        }
    }
    for (kind, name) in [
        (GroupKind::Regular, "regular"),
        (GroupKind::Connection, "connection"),
    ] {
        let n = kind.tls_serialize_detached().unwrap()[0];
        want(format!("{name}({n})"));
    }
    for (kind, name) in [
        (FanoutEntryKind::GroupMessage, "group_message"),
        (FanoutEntryKind::Welcome, "welcome"),
    ] {
        let n = kind.tls_serialize_detached().unwrap()[0];
        want(format!("{name}({n})"));
    }
    let kp = DsKeyPackage::MlsKeyPackage(Bytes::default())
        .tls_serialize_detached()
        .unwrap();
    want(format!(
        "mls_key_package({})",
        u16::from_be_bytes([kp[0], kp[1]])
    ));
    let recipient = DsFanoutRecipient::ClientIdentifier(client("a@b/c"))
        .tls_serialize_detached()
        .unwrap();
    want(format!("client_identifier({})", recipient[0]));
    want(format!("\"{CLIENT_SIGNATURE_LABEL}\""));
    want(format!("\"{JOINER_SIGNATURE_LABEL}\""));
    want(format!("\"{REGISTERED_CLIENT_LABEL}\""));
    want(format!("\"{VOUCHED_CLIENT_LABEL}\""));
    want(format!("0x{VOUCHER_EXTENSION_TYPE:04X}"));
    want(format!("\"{QS_REQUEST_LABEL}\""));
    for (end, name) in [(PageEnd::Complete, "complete"), (PageEnd::More, "more")] {
        let n = end.tls_serialize_detached().unwrap()[0];
        want(format!("{name}({n})"));
    }
    assert!(missing.is_empty(), "spec/protocol.md lacks {missing:?}");
}
