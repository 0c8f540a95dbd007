//! The draft's per-operation validation rules, applied to a staged commit.

use std::collections::{HashMap, HashSet};

use openmls::prelude::{ExtensionType, KeyPackage, ProposalType};

use super::DsGroup;
use super::commit::{CommitOp, Staged};
use super::effects::Effect;
use super::mls::welcome;
use crate::wire::{ClientId, DsError, DsErrorCode, MlsBytes};

/// KeyPackage extension type marking a connection key package (private-use
/// range of RFC 9420 §17.3). Such key packages may only be added to
/// connection groups.
pub const CONNECTION_KEY_PACKAGE_EXTENSION: u16 = 0xf0a1;

/// Whether `kp` is a connection key package.
pub(crate) fn is_connection_key_package(kp: &KeyPackage) -> bool {
    kp.extensions()
        .iter()
        .any(|e| e.extension_type() == ExtensionType::Unknown(CONNECTION_KEY_PACKAGE_EXTENSION))
}

fn fail(code: DsErrorCode, detail: impl Into<String>) -> Result<(), DsError> {
    Err(DsError::new(code, detail))
}

/// Inline proposal types each operation allows.
fn allowed_inline(op: CommitOp) -> &'static [ProposalType] {
    match op {
        CommitOp::AddUsers | CommitOp::AddClients => &[ProposalType::Add],
        CommitOp::RemoveUsers | CommitOp::RemoveClients | CommitOp::DeleteGroup => {
            &[ProposalType::Remove]
        }
        CommitOp::UpdateClient => &[],
        CommitOp::ExternalJoin => &[ProposalType::ExternalInit, ProposalType::Remove],
    }
}

/// Checks `staged` against the rules of `op` and the rules every commit obeys.
pub(crate) fn check(op: CommitOp, group: &DsGroup, staged: &Staged) -> Result<(), DsError> {
    if op == CommitOp::UpdateClient && !staged.inline_types.is_empty() {
        return fail(
            DsErrorCode::InvalidUpdate,
            "UpdateClient carries no proposals of its own",
        );
    }
    for t in &staged.inline_types {
        if !allowed_inline(op).contains(t) {
            return fail(
                DsErrorCode::ProposalNotAllowed,
                format!("{op:?} may not carry a {t:?} proposal"),
            );
        }
    }
    if let Some(path_client) = &staged.path_client
        && *path_client != staged.committer
    {
        return fail(
            DsErrorCode::CredentialChanged,
            format!("leaf of {} would become {path_client}", staged.committer),
        );
    }
    check_no_duplicate_clients(group, staged)?;

    let roster = group.roster();
    let inline_adds = staged.added.iter().filter(|a| a.inline).count();
    let inline_removes = staged.removed.iter().filter(|r| r.inline).count();
    match op {
        CommitOp::AddUsers | CommitOp::AddClients => {
            if inline_adds == 0 {
                return fail(
                    DsErrorCode::ProposalNotAllowed,
                    format!("{op:?} needs Add proposals"),
                );
            }
            for add in &staged.added {
                if add.connection && !group.meta.connection {
                    return fail(
                        DsErrorCode::ConnectionKeyPackageNotAllowed,
                        format!("{} was added with a connection key package", add.client),
                    );
                }
                let user = add.client.user();
                if op == CommitOp::AddUsers && roster.has_user(user) {
                    return fail(
                        DsErrorCode::AddsExistingUser,
                        format!("{user} is already a member; use AddClients"),
                    );
                }
                if op == CommitOp::AddClients && user != staged.committer.user() {
                    return fail(
                        DsErrorCode::AddsForeignClient,
                        format!(
                            "AddClients may only add clients of {}, not {}",
                            staged.committer.user(),
                            add.client
                        ),
                    );
                }
            }
        }
        CommitOp::RemoveUsers => {
            if inline_removes == 0 {
                return fail(
                    DsErrorCode::ProposalNotAllowed,
                    "RemoveUsers needs Remove proposals",
                );
            }
            let removed: HashSet<&ClientId> = staged.removed.iter().map(|r| &r.client).collect();
            for r in &staged.removed {
                if let Some(left) = roster
                    .clients_of(r.client.user())
                    .iter()
                    .find(|c| !removed.contains(c))
                {
                    return fail(
                        DsErrorCode::IncompleteUserRemoval,
                        format!("removing {} but not {left}", r.client.user()),
                    );
                }
            }
        }
        CommitOp::RemoveClients => {
            if inline_removes == 0 {
                return fail(
                    DsErrorCode::ProposalNotAllowed,
                    "RemoveClients needs Remove proposals",
                );
            }
            for r in staged.removed.iter().filter(|r| r.inline) {
                if r.client.user() != staged.committer.user() || r.client == staged.committer {
                    return fail(
                        DsErrorCode::RemovesForeignClient,
                        format!(
                            "{} may only remove its own user's other clients, not {}",
                            staged.committer, r.client
                        ),
                    );
                }
            }
        }
        CommitOp::UpdateClient => {
            // openmls already demands a path of a commit without inline
            // proposals (RFC 9420 §12.4); the draft's rule stands here as well.
            if staged.path_client.is_none() {
                return fail(
                    DsErrorCode::InvalidUpdate,
                    "UpdateClient needs an update path",
                );
            }
        }
        CommitOp::ExternalJoin => {
            let joiner = &staged.committer;
            for r in staged.removed.iter().filter(|r| r.inline) {
                if r.client != *joiner {
                    return fail(
                        DsErrorCode::InvalidExternalJoin,
                        format!(
                            "an external join may only remove the joiner's old leaf, not {}",
                            r.client
                        ),
                    );
                }
            }
            if !roster.has_user(joiner.user()) {
                return fail(
                    DsErrorCode::ExternalJoinNotAllowed,
                    format!(
                        "{} is not a member, so its clients may not join externally",
                        joiner.user()
                    ),
                );
            }
        }
        CommitOp::DeleteGroup => {
            let removed: HashSet<&ClientId> = staged.removed.iter().map(|r| &r.client).collect();
            if let Some(left) = roster
                .clients()
                .find(|c| **c != staged.committer && !removed.contains(c))
            {
                return fail(
                    DsErrorCode::IncompleteGroupDeletion,
                    format!("DeleteGroup leaves {left} in the group"),
                );
            }
        }
    }
    Ok(())
}

/// After the commit, no client may hold two leaves.
fn check_no_duplicate_clients(group: &DsGroup, staged: &Staged) -> Result<(), DsError> {
    let removed: HashSet<&ClientId> = staged.removed.iter().map(|r| &r.client).collect();
    let mut incoming: HashSet<&ClientId> = HashSet::new();
    let joiner = staged.committer_leaf.is_none().then_some(&staged.committer);
    for client in staged.added.iter().map(|a| &a.client).chain(joiner) {
        let present = group.roster().contains(client) && !removed.contains(client);
        if present || !incoming.insert(client) {
            return fail(
                DsErrorCode::DuplicateClient,
                format!("{client} would hold two leaves"),
            );
        }
    }
    Ok(())
}

/// Maps each Welcome to the added clients it is for; every client added by
/// Add proposal must be covered by exactly one Welcome.
pub(crate) fn match_welcomes(
    staged: &Staged,
    welcomes: &[MlsBytes],
) -> Result<Vec<Effect>, DsError> {
    let by_ref: HashMap<&[u8], &ClientId> = staged
        .added
        .iter()
        .map(|a| (a.key_package_ref.as_slice(), &a.client))
        .collect();
    let mut covered: HashSet<&ClientId> = HashSet::new();
    let mut effects = Vec::with_capacity(welcomes.len());
    for bytes in welcomes {
        let w = welcome(bytes.as_slice())?;
        let mut recipients = Vec::new();
        for secret in w.secrets() {
            let target = secret.new_member();
            let client = *by_ref.get(target.as_slice()).ok_or_else(|| {
                DsError::new(
                    DsErrorCode::WelcomeMismatch,
                    "a Welcome is for a key package the commit does not add",
                )
            })?;
            if !covered.insert(client) {
                return Err(DsError::new(
                    DsErrorCode::WelcomeMismatch,
                    format!("{} is covered by two Welcomes", client),
                ));
            }
            recipients.push(client.clone());
        }
        if recipients.is_empty() {
            return Err(DsError::new(
                DsErrorCode::WelcomeMismatch,
                "a Welcome is for nobody",
            ));
        }
        effects.push(Effect::Welcome {
            message: bytes.as_slice().to_vec(),
            recipients,
        });
    }
    if let Some(missing) = staged.added.iter().find(|a| !covered.contains(&a.client)) {
        return Err(DsError::new(
            DsErrorCode::WelcomeMismatch,
            format!("no Welcome for {}", missing.client),
        ));
    }
    Ok(effects)
}
