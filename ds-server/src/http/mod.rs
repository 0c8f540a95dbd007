//! The transport: the public HTTPS listener (TLS 1.3, HTTP/2 with HTTP/1.1
//! fallback) that carries protocol messages to a [`DsEndpoint`], and the
//! plain-HTTP admin listener (health, readiness, metrics).
//!
//! This module knows HTTP, not the protocol: it decodes a `DSRequest`,
//! hands it to the endpoint and encodes the answer. HTTP statuses other than
//! 200 mean the request never reached the protocol layer (spec §12):
//!
//! | status | when |
//! |---|---|
//! | 200 | a `DSResponse` (`QSResponse` on `/mimi/v1/queue`, `DSFanoutResponse` on `/mimi/v1/fanout`), refusals and undecodable bodies included |
//! | 400 | the body could not be read (connection error) |
//! | 101 / 200 | `GET /mimi/v1/push` opened a WebSocket (HTTP/1.1 upgrade / HTTP/2 extended CONNECT) |
//! | 404 | unknown path |
//! | 405 | method other than `POST` (`Allow: POST`) |
//! | 413 | body larger than `limits.max_body_bytes` |
//! | 415 | `Content-Type` is not `application/mimi-ds` |
//! | 429 | over the rate of the source address or (queue) client; `Retry-After` and a `RateLimited` body |

mod accept;
pub mod admin;
mod body;
mod ds;
pub mod endpoint;
mod fanout;
pub mod limits;
pub mod metrics;
pub mod probe;
mod push;
mod queue;
pub mod rate_limit;
pub mod readiness;
mod responses;
mod routes;
pub mod server;

pub use admin::{AdminState, serve_admin};
pub use ds::DS_PATH;
pub use endpoint::DsEndpoint;
pub use fanout::FANOUT_PATH;
pub use limits::Limits;
pub use push::PUSH_PATH;
pub use queue::QUEUE_PATH;
pub use readiness::Readiness;
pub use responses::MEDIA_TYPE;
pub use server::serve;
