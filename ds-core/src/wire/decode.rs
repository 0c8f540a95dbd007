//! Strict top-level decoding: version first, whole input consumed, typed errors.

use tls_codec::{Deserialize, Serialize};

use super::auth::DsAuthData;
use super::error::{DsError, DsErrorCode};
use super::fanout::{DsFanoutRequest, DsFanoutResponse, DsFanoutResponseBody};
use super::queue::{QsAuth, QsRequest, QsRequestBody, QsResponse, QsResponseBody};
use super::request::{DsRequest, DsRequestBody};
use super::response::{DsResponse, DsResponseBody};
use super::version::ProtocolVersion;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The message names a protocol version this implementation does not speak.
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u16),
    /// An enum field holds a value the protocol does not define.
    #[error("unknown value {0} in an enumerated field")]
    UnknownValue(u64),
    /// Bytes remain after the message.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    /// The bytes are otherwise not a valid encoding.
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl From<tls_codec::Error> for WireError {
    fn from(e: tls_codec::Error) -> Self {
        match e {
            tls_codec::Error::UnknownValue(v) => Self::UnknownValue(v),
            tls_codec::Error::EndOfStream => Self::Malformed("message ends early".into()),
            tls_codec::Error::InvalidVectorLength => {
                Self::Malformed("a length exceeds its bound".into())
            }
            other => Self::Malformed(other.to_string()),
        }
    }
}

impl From<WireError> for DsError {
    fn from(e: WireError) -> Self {
        let code = match e {
            WireError::UnsupportedVersion(_) => DsErrorCode::UnsupportedVersion,
            _ => DsErrorCode::MalformedMessage,
        };
        DsError::new(code, e.to_string())
    }
}

/// Reads the version and refuses the rest unless it is supported.
fn read_version(input: &mut &[u8]) -> Result<ProtocolVersion, WireError> {
    let version = ProtocolVersion::tls_deserialize(input)?;
    if !version.is_supported() {
        return Err(WireError::UnsupportedVersion(version.0));
    }
    Ok(version)
}

fn finish<T>(value: T, rest: &[u8]) -> Result<T, WireError> {
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(WireError::TrailingBytes(rest.len()))
    }
}

impl DsFanoutRequest {
    /// Decodes a fan-out request strictly (the signature is not checked here).
    pub fn decode(input: &[u8]) -> Result<Self, WireError> {
        let mut peek = input;
        read_version(&mut peek)?;
        let mut rest = input;
        let value = Self::tls_deserialize(&mut rest)?;
        finish(value, rest)
    }

    /// Encodes the request.
    pub fn encode(&self) -> Result<Vec<u8>, tls_codec::Error> {
        self.tls_serialize_detached()
    }
}

/// Strict `decode`, `encode` for a request `{ version; body; auth; }`.
macro_rules! request_codec {
    ($request:ident, $body:ident, $auth:ident) => {
        impl $request {
            /// Decodes the request strictly (signatures are not checked here).
            pub fn decode(mut input: &[u8]) -> Result<Self, WireError> {
                let version = read_version(&mut input)?;
                let body = $body::tls_deserialize(&mut input)?;
                let auth = $auth::tls_deserialize(&mut input)?;
                finish(
                    Self {
                        version,
                        body,
                        auth,
                    },
                    input,
                )
            }

            /// Encodes the request.
            pub fn encode(&self) -> Result<Vec<u8>, tls_codec::Error> {
                self.tls_serialize_detached()
            }
        }
    };
}

/// Strict `decode`, `encode` and a version-1 `new` for a response
/// `{ version; body; }`.
macro_rules! response_codec {
    ($response:ident, $body:ident) => {
        impl $response {
            /// Decodes the response strictly.
            pub fn decode(mut input: &[u8]) -> Result<Self, WireError> {
                let version = read_version(&mut input)?;
                let body = $body::tls_deserialize(&mut input)?;
                finish(Self { version, body }, input)
            }

            /// Encodes the response.
            pub fn encode(&self) -> Result<Vec<u8>, tls_codec::Error> {
                self.tls_serialize_detached()
            }

            /// A version-1 response with `body`.
            pub fn new(body: $body) -> Self {
                Self {
                    version: ProtocolVersion::V1,
                    body,
                }
            }
        }
    };
}

request_codec!(DsRequest, DsRequestBody, DsAuthData);
request_codec!(QsRequest, QsRequestBody, QsAuth);
response_codec!(DsResponse, DsResponseBody);
response_codec!(QsResponse, QsResponseBody);
response_codec!(DsFanoutResponse, DsFanoutResponseBody);
