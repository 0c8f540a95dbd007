//! DS-induced removal: the DS, as the groups' external sender, proposes to
//! remove a client from every group it is in (deleted client or user,
//! inactivity). The proposals go into each group's log like any message
//! (sender: the DS) and stay pending for the epoch; after every commit that
//! did not remove the client the DS proposes again for the new epoch, in the
//! commit's own transaction, until a member commits the removal.
//!
//! Only groups this DS owns can be visited: a guest DS cannot propose in
//! another domain's group.

use ds_core::group::{DsGroup, Effect, Outcome};
use ds_core::wire::{ClientId, DsError, DsErrorCode, GroupId, UserId};

use super::{DsService, Peering};
use crate::storage::StorageError;

/// Why an operator command failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The service was built without the DS's signing key.
    #[error("this DS has no signing key configured, so it cannot propose removals")]
    NoSigner,
    /// The current signing key is not the engine's external-sender key.
    #[error("the DS signing key does not match the engine's external-sender key")]
    SignerMismatch,
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// No registration token could be made.
    #[error("cannot make a registration token: {0}")]
    Token(&'static str),
}

/// What removing one client from its groups came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removal {
    /// Groups where a DS Remove proposal for the client is now pending.
    pub proposed: Vec<String>,
    /// Groups where no proposal could be issued, with the reason.
    pub failed: Vec<(String, String)>,
}

impl DsService {
    /// Gives the DS its signing keys (and other domains' keys): it then
    /// issues its own Remove proposals, vouches for its clients and
    /// federates. The keyring's current key must be the external-sender key
    /// this service's engine context was built with; the first one set stays.
    pub fn with_peering(self, peering: Peering) -> Result<Self, OperatorError> {
        let current = peering.keyring.current().public_key();
        if current.as_slice() != self.inner.ctx.ds_signature_key().as_slice() {
            return Err(OperatorError::SignerMismatch);
        }
        // Already set: the same current key (checked above) is in place.
        let _ = self.inner.peering.set(peering);
        Ok(self)
    }

    /// Proposes removing `client` from every group of this DS it is a
    /// current member of, committing each proposal like a group operation.
    /// A group that cannot take the proposal (it no longer lists this DS as
    /// external sender, say) is reported and does not stop the others.
    pub async fn remove_client(&self, client: &ClientId) -> Result<Removal, OperatorError> {
        if self.peering().is_none() {
            return Err(OperatorError::NoSigner);
        }
        let ctx = &self.inner.ctx;
        let mut removal = Removal::default();
        for group in self.inner.store.groups_of_client(client.as_str()).await? {
            let id = match GroupId::new(&group) {
                Ok(id) if id.domain() == ctx.domain().as_str() => id,
                Ok(id) => {
                    let owner = id.domain().to_owned();
                    removal
                        .failed
                        .push((group, format!("owned by {owner}, not by this DS")));
                    continue;
                }
                Err(e) => {
                    removal.failed.push((group, e.to_string()));
                    continue;
                }
            };
            let proposed = self
                .on_group(&id, false, |g| {
                    let signer = self.signer_for(g)?;
                    g.ds_remove(ctx, client, signer.as_ref())
                })
                .await;
            match proposed {
                Ok(_) => removal.proposed.push(group),
                // The roster, not the membership table, is authoritative.
                Err(e) if e.code == DsErrorCode::NotAMember => {}
                Err(e) => {
                    tracing::warn!(client = %client.as_str(), %group, error = %e, "DS removal not proposed");
                    removal.failed.push((group, e.to_string()));
                }
            }
        }
        tracing::info!(
            client = %client.as_str(),
            proposed = removal.proposed.len(),
            failed = removal.failed.len(),
            "DS removal proposed"
        );
        Ok(removal)
    }

    /// Removes `client` from its groups, then deletes its registration and
    /// everything stored for it. `None` if it is not registered. The
    /// registration is deleted even where a group could not take the
    /// proposal: the operator's decision stands, and those groups' members
    /// can still remove the client themselves.
    pub async fn delete_client(&self, client: &ClientId) -> Result<Option<Removal>, OperatorError> {
        if self.inner.store.client(client.as_str()).await?.is_none() {
            return Ok(None);
        }
        let removal = self.remove_client(client).await?;
        self.inner.store.delete_client(client.as_str()).await?;
        tracing::info!(client = %client.as_str(), "client deleted");
        Ok(Some(removal))
    }

    /// [`DsService::delete_client`] for every registered client of `user`;
    /// empty if the user has none.
    pub async fn delete_user(
        &self,
        user: &UserId,
    ) -> Result<Vec<(ClientId, Removal)>, OperatorError> {
        let mut deleted = Vec::new();
        for id in self.inner.store.clients_of_user(user.as_str()).await? {
            let Ok(client) = ClientId::new(&id) else {
                tracing::warn!(client = %id, "stored client id is malformed; skipped");
                continue;
            };
            if let Some(removal) = self.delete_client(&client).await? {
                deleted.push((client, removal));
            }
        }
        Ok(deleted)
    }

    /// After a commit opened a new epoch: proposes again every removal the
    /// DS still wants, adding the proposals to `outcome` so they are stored
    /// with the commit. Without a signer there is nothing to propose.
    pub(super) fn propose_due_removals(&self, group: &mut DsGroup, outcome: &mut Outcome) {
        if self.peering().is_none() {
            return;
        }
        if outcome
            .effects
            .iter()
            .any(|e| matches!(e, Effect::GroupDeleted))
        {
            return;
        }
        for client in group.ds_removals_due() {
            let proposed = self
                .signer_for(group)
                .and_then(|signer| group.ds_remove(&self.inner.ctx, &client, signer.as_ref()));
            match proposed {
                Ok(proposal) => {
                    outcome.state_changed |= proposal.state_changed;
                    outcome.effects.extend(proposal.effects);
                }
                Err(e) => log_not_reproposed(group, &client, &e),
            }
        }
    }
}

impl DsService {
    /// The DS key `group` lists as external sender (an earlier key for
    /// groups created before a rotation).
    fn signer_for(&self, group: &DsGroup) -> Result<std::sync::Arc<ds_federation::DsKey>, DsError> {
        group
            .ds_external_sender_key(&self.inner.ctx)
            .and_then(|key| self.removal_signer(&key))
            .ok_or_else(|| {
                DsError::new(
                    DsErrorCode::MissingExternalSender,
                    "the group lists no key of this DS as external sender",
                )
            })
    }
}

fn log_not_reproposed(group: &DsGroup, client: &ClientId, error: &DsError) {
    tracing::warn!(
        group = %group.group_id(),
        client = %client.as_str(),
        %error,
        "DS removal not proposed again in the new epoch"
    );
}
