//! `send_message`: an application message from a current member.

use openmls::prelude::ContentType;

use super::DsGroup;
use super::auth::verify_member_signature;
use super::context::EngineContext;
use super::effects::{Effect, Outcome};
use super::mls::private_message;
use crate::wire::{
    DsError, DsErrorCode, DsRequest, DsRequestBody, DsResponseBody, SendMessageRequest,
};

impl DsGroup {
    /// Checks framing (PrivateMessage, application, this group, this epoch)
    /// and the sender's ClientSignature; the content stays opaque.
    pub(crate) fn send_message(
        &mut self,
        ctx: &EngineContext,
        request: &DsRequest,
        body: &SendMessageRequest,
    ) -> Result<Outcome, DsError> {
        let mut outcome = self.validate_message(ctx, request, body)?;
        if let Some(Effect::GroupMessage {
            sender: Some(sender),
            ..
        }) = outcome.effects.first()
        {
            outcome.state_changed = self.mark_active(&sender.clone());
        }
        Ok(outcome)
    }

    /// Checks an application message without changing the state, so many
    /// can be checked concurrently against one shared state. The outcome's
    /// `state_changed` says whether [`DsGroup::process`] would change the
    /// state (the sender's first message after joining drops its welcome
    /// information); such a message must go through `process` instead.
    pub fn check_message(
        &self,
        ctx: &EngineContext,
        request: &DsRequest,
    ) -> Result<Outcome, DsError> {
        if !request.version.is_supported() {
            return Err(DsError::new(
                DsErrorCode::UnsupportedVersion,
                format!("unsupported protocol version {}", request.version.0),
            ));
        }
        let DsRequestBody::SendMessage(body) = &request.body else {
            return Err(DsError::new(
                DsErrorCode::UnsupportedOperation,
                "check_message handles send_message only",
            ));
        };
        let mut outcome = self.validate_message(ctx, request, body)?;
        if let Some(Effect::GroupMessage {
            sender: Some(sender),
            ..
        }) = outcome.effects.first()
        {
            outcome.state_changed = self.is_pending_join(sender);
        }
        Ok(outcome)
    }

    fn validate_message(
        &self,
        ctx: &EngineContext,
        request: &DsRequest,
        body: &SendMessageRequest,
    ) -> Result<Outcome, DsError> {
        let bytes = body.application_message.as_slice();
        let message = private_message(bytes)?;
        if message.group_id().as_slice() != self.id.as_bytes() {
            return Err(DsError::new(
                DsErrorCode::WrongGroup,
                format!("the message is not for group {}", self.id),
            ));
        }
        if message.content_type() != ContentType::Application {
            return Err(DsError::new(
                DsErrorCode::WrongContentType,
                "send_message carries application messages only",
            ));
        }
        let epoch = message.epoch().as_u64();
        if epoch != self.epoch() {
            return Err(DsError::new(
                DsErrorCode::WrongEpoch,
                format!(
                    "message is for epoch {epoch}, the group is at {}",
                    self.epoch()
                ),
            ));
        }
        let leaf = verify_member_signature(ctx, self.group.public(), request)?;
        let sender =
            self.roster.client_at(leaf).cloned().ok_or_else(|| {
                DsError::new(DsErrorCode::NotAMember, "the sender is not a member")
            })?;
        Ok(Outcome {
            response: DsResponseBody::Ok,
            effects: vec![Effect::GroupMessage {
                message: bytes.to_vec(),
                sender: Some(sender),
            }],
            state_changed: false,
        })
    }
}
