//! Operator commands on the admin listener (what `mimi-ds admin` sends):
//!
//! | request | answer |
//! |---|---|
//! | `POST /admin/v1/tokens` | 201, a fresh one-time registration token (text) |
//! | `DELETE /admin/v1/clients/{client_id}` | 200, JSON of the removal; 404 if not registered |
//! | `DELETE /admin/v1/users/{user_id}` | 200, JSON per deleted client; 404 if none |
//! | `GET /admin/v1/status` | 200, JSON [`Status`](crate::service::Status) |
//! | `POST /admin/v1/keys/rotate` | 200, JSON `{"key_id": hex}` of the new current DS signing key |
//! | `GET /admin/v1/dead-letters/{domain}` | 200, JSON list of the oldest 100 fan-outs to `domain` given up on (spec §11.5) |
//!
//! A malformed id is 400, a failure of the service 500, each with a line of
//! text saying why. Ids may be sent as is or percent-encoded.

use std::time::Duration;

use bytes::Bytes;
use ds_core::wire::{ClientId, Domain, UserId};
use http::{Method, Response, StatusCode};
use serde_json::json;

use crate::http::responses::{self, Body};
use crate::service::{DsService, OperatorError, Removal};

/// Where the operator commands live.
pub(super) const PREFIX: &str = "/admin/v1/";

const JSON: &str = "application/json";
/// Dead letters listed per request at most (oldest first).
const DEAD_LETTER_PAGE: usize = 100;
const TEXT: &str = "text/plain; charset=utf-8";

/// What the operator commands act on.
#[derive(Debug, Clone)]
pub struct AdminOperations {
    /// The running service.
    pub service: DsService,
    /// Lifetime of the registration tokens issued.
    pub token_ttl: Duration,
}

impl AdminOperations {
    /// Answers `method` on `/admin/v1/{command}`.
    pub(super) async fn route(&self, method: &Method, command: &str) -> Response<Body> {
        if command == "tokens" {
            if method != Method::POST {
                return responses::method_not_allowed("POST");
            }
            return match self.service.issue_token(self.token_ttl).await {
                Ok(token) => text(StatusCode::CREATED, format!("{token}\n")),
                Err(e) => command_failed(&e),
            };
        }
        if command == "status" {
            if method != Method::GET && method != Method::HEAD {
                return responses::method_not_allowed("GET, HEAD");
            }
            return match self.service.status().await {
                Ok(status) => json_response(StatusCode::OK, &json!(status)),
                Err(e) => command_failed(&e),
            };
        }
        if command == "keys/rotate" {
            if method != Method::POST {
                return responses::method_not_allowed("POST");
            }
            return match self.service.rotate_key() {
                Ok(key) => json_response(
                    StatusCode::OK,
                    &json!({ "key_id": hex::encode(key.key_id()) }),
                ),
                Err(e) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("key rotation failed: {}\n", e.detail()),
                ),
            };
        }
        if let Some(domain) = command.strip_prefix("dead-letters/") {
            if method != Method::GET && method != Method::HEAD {
                return responses::method_not_allowed("GET, HEAD");
            }
            return self.dead_letters(domain).await;
        }
        if let Some(id) = command.strip_prefix("clients/") {
            if method != Method::DELETE {
                return responses::method_not_allowed("DELETE");
            }
            return self.delete_client(id).await;
        }
        if let Some(id) = command.strip_prefix("users/") {
            if method != Method::DELETE {
                return responses::method_not_allowed("DELETE");
            }
            return self.delete_user(id).await;
        }
        responses::plain(StatusCode::NOT_FOUND, "no such admin command\n")
    }

    async fn dead_letters(&self, raw: &str) -> Response<Body> {
        let domain = match percent_decode(raw).map(|d| Domain::new(&d)) {
            Some(Ok(domain)) => domain,
            Some(Err(e)) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
            None => return bad_encoding(),
        };
        let store = self.service.store();
        match store
            .outbox_dead_letters(domain.as_str(), DEAD_LETTER_PAGE)
            .await
        {
            Ok(letters) => {
                let listed: Vec<serde_json::Value> = letters
                    .iter()
                    .map(|l| {
                        json!({
                            "id": l.id,
                            "group_id": l.group_id,
                            "seq": l.seq,
                            "reason": l.reason,
                            "created_at": l.created_at.unix_secs(),
                            "dropped_at": l.dropped_at.unix_secs(),
                            "payload_bytes": l.payload.len(),
                        })
                    })
                    .collect();
                json_response(StatusCode::OK, &json!({ "dead_letters": listed }))
            }
            Err(e) => command_failed(&OperatorError::Storage(e)),
        }
    }

    async fn delete_client(&self, raw: &str) -> Response<Body> {
        let client = match percent_decode(raw).map(|id| ClientId::new(&id)) {
            Some(Ok(client)) => client,
            Some(Err(e)) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
            None => return bad_encoding(),
        };
        match self.service.delete_client(&client).await {
            Ok(Some(removal)) => json_response(
                StatusCode::OK,
                &json!({ "deleted": [deleted(&client, &removal)] }),
            ),
            Ok(None) => text(
                StatusCode::NOT_FOUND,
                format!("no client {} is registered here\n", client.as_str()),
            ),
            Err(e) => command_failed(&e),
        }
    }

    async fn delete_user(&self, raw: &str) -> Response<Body> {
        let user = match percent_decode(raw).map(|id| UserId::new(&id)) {
            Some(Ok(user)) => user,
            Some(Err(e)) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
            None => return bad_encoding(),
        };
        match self.service.delete_user(&user).await {
            Ok(clients) if clients.is_empty() => text(
                StatusCode::NOT_FOUND,
                format!("user {} has no client registered here\n", user.as_str()),
            ),
            Ok(clients) => {
                let deleted: Vec<_> = clients.iter().map(|(c, r)| deleted(c, r)).collect();
                json_response(StatusCode::OK, &json!({ "deleted": deleted }))
            }
            Err(e) => command_failed(&e),
        }
    }
}

/// One deleted client and the groups its removal was proposed in.
fn deleted(client: &ClientId, removal: &Removal) -> serde_json::Value {
    let failed: Vec<_> = removal
        .failed
        .iter()
        .map(|(group, reason)| json!({ "group": group, "reason": reason }))
        .collect();
    json!({
        "client_id": client.as_str(),
        "removal_proposed_in": removal.proposed,
        "removal_failed_in": failed,
    })
}

fn command_failed(error: &OperatorError) -> Response<Body> {
    tracing::error!(%error, "admin command failed");
    text(StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n"))
}

fn bad_encoding() -> Response<Body> {
    responses::plain(StatusCode::BAD_REQUEST, "malformed percent-encoding\n")
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    responses::with_type(status, TEXT, Bytes::from(body))
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut body = value.to_string();
    body.push('\n');
    responses::with_type(status, JSON, Bytes::from(body))
}

/// Decodes `%XX` escapes; `None` if an escape is malformed or the result is
/// not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_escapes_are_decoded_and_bad_ones_refused() {
        assert_eq!(
            percent_decode("carol%40ds-a.example%2Fphone").as_deref(),
            Some("carol@ds-a.example/phone")
        );
        assert_eq!(
            percent_decode("carol@ds-a.example/phone").as_deref(),
            Some("carol@ds-a.example/phone")
        );
        for bad in ["%", "%4", "%zz", "%ff", "a%+1"] {
            assert_eq!(percent_decode(bad), None, "{bad}");
        }
    }
}
