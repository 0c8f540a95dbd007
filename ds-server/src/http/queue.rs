//! `POST /mimi/v1/queue`: a `QSRequest` in, a `QSResponse` out (spec §13).
//! The transport checks are those of `POST /mimi/v1/ds`; the queue service
//! itself authenticates every request.

use bytes::Bytes;
use ds_core::wire::{DsError, DsErrorCode, QsRequest, QsResponse, QsResponseBody};
use http::{Request, Response};

use super::body::{count_undecodable, protocol_answer, protocol_body};
use super::endpoint::DsEndpoint;
use super::responses::Body;

/// Path of the queue service endpoint.
pub const QUEUE_PATH: &str = "/mimi/v1/queue";

/// Answers one request to [`QUEUE_PATH`]: transport refusals as HTTP
/// statuses, everything that reaches the protocol layer as `200` with an
/// encoded `QSResponse` (undecodable bodies included).
pub(crate) async fn handle<E, B>(
    request: Request<B>,
    endpoint: &E,
    max_body: usize,
) -> Response<Body>
where
    E: DsEndpoint,
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let bytes = match protocol_body(request, max_body).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    let body = match QsRequest::decode(&bytes) {
        Ok(request) => {
            tracing::Span::current().record("operation", request.body.name());
            endpoint.handle_queue(request).await
        }
        Err(error) => {
            tracing::debug!(%error, "undecodable queue request");
            let error = DsError::from(error);
            count_undecodable(error.code);
            QsResponseBody::Error(error)
        }
    };
    if let QsResponseBody::Error(error) = &body {
        tracing::debug!(code = ?error.code, "queue request refused");
    }
    protocol_answer(QsResponse::new(body).encode(), || {
        QsResponse::new(QsResponseBody::Error(DsError::new(
            DsErrorCode::InternalError,
            "the response could not be encoded",
        )))
        .encode()
    })
}
