//! The application's handle: opening a client from its directory (or
//! creating and enrolling it), the group operations, and the event stream.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use ds_core::wire::{ClientId, ClientVoucher, GroupId, UserId};
use openmls::prelude::{MlsGroup, SignatureScheme};
use openmls_basic_credential::SignatureKeyPair;
use tls_codec::Deserialize as _;
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;

use crate::config::ClientConfig;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::group::roster::GroupSummary;
use crate::identity::Identity;
use crate::inner::Inner;
use crate::provider::SdkProvider;
use crate::state::{self, Saved};
use crate::transport::Transport;

/// What the client and its push task share.
#[derive(Debug)]
pub struct Shared {
    /// The state; every operation holds it for its whole duration, so
    /// operations, sync and push pages apply one at a time.
    pub inner: Mutex<Inner>,
    /// Woken when push queued events.
    pub wake: Notify,
    /// TLS of the push channel.
    pub push_tls: Arc<rustls::ClientConfig>,
}

/// A MIMI client: one device of one user, with its state in one directory.
///
/// Every method may be called from several tasks; they take turns. Drop
/// the client to stop its background push connection.
#[derive(Debug)]
pub struct Client {
    id: ClientId,
    pub(crate) shared: Arc<Shared>,
    push: Option<JoinHandle<()>>,
    committer: JoinHandle<()>,
}

impl Client {
    /// Opens the client whose state is in `config.state_dir`, or creates
    /// it: a new key, registered at the home DS (with the registration
    /// token, if any), its voucher fetched and key packages published.
    pub async fn open(config: ClientConfig) -> Result<Self> {
        let id = config.client_id()?;
        state::ensure_dir(&config.state_dir)?;
        let transport = Transport::new(&config)?;
        let mut inner = match state::load(&config.state_dir)? {
            Some(saved) => restore(saved, &id, &config, transport)?,
            None => fresh(&id, &config, transport)?,
        };
        let (due, scheduled) = tokio::sync::mpsc::unbounded_channel();
        inner.due = Some(due);
        inner.save()?;
        inner.enrol(config.registration_token.as_deref()).await?;
        // Removals stored before the client was closed are still due.
        let groups: Vec<String> = inner.mls.keys().cloned().collect();
        for gid in groups {
            if let Ok(gid) = GroupId::new(&gid) {
                inner.schedule_pending_commit(&gid);
            }
        }
        let shared = Arc::new(Shared {
            inner: Mutex::new(inner),
            wake: Notify::new(),
            push_tls: crate::tls::push_tls(&config.trust_roots)?,
        });
        // The first call of next_event syncs at once.
        shared.wake.notify_one();
        let push = config
            .tuning
            .live_push
            .then(|| tokio::spawn(crate::push::run(Arc::clone(&shared))));
        let committer = tokio::spawn(crate::group::pending::run(Arc::clone(&shared), scheduled));
        Ok(Self {
            id,
            shared,
            push,
            committer,
        })
    }

    /// Stops the background tasks (live push, commits of pending removals)
    /// and waits until they have, so that nothing writes to the state
    /// directory afterwards (dropping the client stops them too, but
    /// without waiting).
    pub async fn close(mut self) {
        if let Some(push) = self.push.take() {
            push.abort();
            let _ = push.await;
        }
        self.committer.abort();
        let _ = (&mut self.committer).await;
    }

    /// This client's id.
    pub fn id(&self) -> &ClientId {
        &self.id
    }

    /// Creates a group owned by the home DS, named `name`.
    pub async fn create_group(&self, name: &str) -> Result<GroupId> {
        self.shared.inner.lock().await.create_group(name).await
    }

    /// Adds every client of each of `users` (none of them in the group
    /// yet) to the group with one commit; the key packages come from each
    /// user's home DS (`ds_user_key_packages`). Each added client joins
    /// from its Welcome ([`Event::Joined`]).
    pub async fn invite_users(&self, group: &GroupId, users: &[UserId]) -> Result<()> {
        self.shared
            .inner
            .lock()
            .await
            .invite_users(group, users)
            .await
    }

    /// Adds these clients (each of a user not yet in the group) to the
    /// group: the draft's way, by client id (`ds_key_packages`). Adding a
    /// user must add all of its clients; [`Client::invite_users`] does.
    pub async fn invite(&self, group: &GroupId, clients: &[ClientId]) -> Result<()> {
        self.shared.inner.lock().await.invite(group, clients).await
    }

    /// Adds `device`, another client of this client's own user, to the
    /// group (`ds_add_clients`, spec §8.6). It joins from the Welcome like
    /// an invited client; afterwards each device gets every message of the
    /// others once.
    pub async fn add_device(&self, group: &GroupId, device: &ClientId) -> Result<()> {
        self.shared
            .inner
            .lock()
            .await
            .add_device(group, device)
            .await
    }

    /// Rejoins `group` by external commit, for a client whose state of the
    /// group is lost or unusable (restored from an old backup, damaged)
    /// while its registration is intact. Whatever state of the group it
    /// had is dropped; its old leaf is removed by the same commit (a
    /// resync, which the other members see as no membership change); the
    /// event stream continues with what is logged after that commit, and
    /// what was logged in between, in epochs the client has no keys for,
    /// is skipped. A device that lost its key too has lost its
    /// registration: open it as a new device (another device name) and
    /// call this to join as a further device of its user. The owning DS
    /// allows it only while the user is a member (`ExternalJoinNotAllowed`
    /// otherwise).
    pub async fn rejoin(&self, group: &GroupId) -> Result<()> {
        self.shared.inner.lock().await.rejoin(group).await
    }

    /// Removes every client of `user` from the group.
    pub async fn remove(&self, group: &GroupId, user: &UserId) -> Result<()> {
        self.shared.inner.lock().await.remove(group, user).await
    }

    /// Removes `device`, another device of this client's own user, from
    /// the group; it gets [`Event::Removed`], the others
    /// [`Event::MembersRemoved`].
    pub async fn remove_device(&self, group: &GroupId, device: &ClientId) -> Result<()> {
        self.shared
            .inner
            .lock()
            .await
            .remove_device(group, device)
            .await
    }

    /// Deletes the group: one commit removes every other member (each gets
    /// [`Event::Removed`]), and the owning DS forgets the group; later
    /// requests about it are refused as `GroupNotFound`.
    pub async fn delete_group(&self, group: &GroupId) -> Result<()> {
        self.shared.inner.lock().await.delete_group(group).await
    }

    /// Asks to leave the group: a self-removal proposal, which the other
    /// members' clients commit by themselves a moment later; this client
    /// then gets [`Event::Removed`], the others [`Event::MembersRemoved`].
    pub async fn leave(&self, group: &GroupId) -> Result<()> {
        self.shared.inner.lock().await.leave(group).await
    }

    /// Refreshes this client's keys in the group (and commits pending
    /// removals).
    pub async fn update(&self, group: &GroupId) -> Result<()> {
        self.shared.inner.lock().await.update(group).await
    }

    /// Sends `body` to every other member of the group.
    pub async fn send(&self, group: &GroupId, body: &[u8]) -> Result<()> {
        self.shared.inner.lock().await.send(group, body).await
    }

    /// The groups this client is a member of.
    pub async fn groups(&self) -> Result<Vec<GroupSummary>> {
        self.shared.inner.lock().await.groups()
    }

    /// The clients in the group, this one included.
    pub async fn members(&self, group: &GroupId) -> Result<Vec<ClientId>> {
        self.shared.inner.lock().await.members(group)
    }

    /// Reads the queue at the home DS now and applies what is new.
    pub async fn sync(&self) -> Result<()> {
        self.shared.inner.lock().await.sync().await
    }

    /// The next event, waiting for one. Events come in log order, each
    /// once: an event returned here is taken (removed from the saved state
    /// before it is returned), and acknowledged to the DS once every
    /// earlier event was taken too.
    pub async fn next_event(&self) -> Result<Event> {
        let poll = self.shared.inner.lock().await.tuning.poll_interval;
        let mut synced = false;
        loop {
            {
                let mut inner = self.shared.inner.lock().await;
                if let Some(event) = inner.take_event().await? {
                    return Ok(event);
                }
                if !synced {
                    inner.sync().await?;
                    synced = true;
                    continue;
                }
            }
            if tokio::time::timeout(poll, self.shared.wake.notified())
                .await
                .is_err()
            {
                // Nothing pushed for a while: look for ourselves.
                synced = false;
            }
        }
    }

    /// The next event if one arrives within `wait`.
    pub async fn next_event_within(&self, wait: std::time::Duration) -> Result<Option<Event>> {
        match tokio::time::timeout(wait, self.next_event()).await {
            Ok(event) => event.map(Some),
            Err(_) => Ok(None),
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(push) = self.push.take() {
            push.abort();
        }
        self.committer.abort();
    }
}

/// A new client: a new key, nothing else yet.
fn fresh(id: &ClientId, config: &ClientConfig, transport: Transport) -> Result<Inner> {
    let signer = SignatureKeyPair::new(SignatureScheme::ED25519)
        .map_err(|e| Error::mls("generating the key", e))?;
    let provider = SdkProvider::default();
    signer
        .store(openmls_traits::OpenMlsProvider::storage(&provider))
        .map_err(|e| Error::mls("storing the key", e))?;
    Ok(Inner {
        identity: Identity {
            id: id.clone(),
            signer,
            voucher: None,
        },
        provider,
        registered: false,
        inbox: 0,
        groups: Default::default(),
        mls: HashMap::new(),
        pending: VecDeque::new(),
        dir: config.state_dir.clone(),
        transport,
        tuning: config.tuning.clone(),
        due: None,
    })
}

/// The client saved in its directory.
fn restore(
    saved: Saved,
    id: &ClientId,
    config: &ClientConfig,
    transport: Transport,
) -> Result<Inner> {
    if saved.client_id != id.as_str() {
        return Err(Error::Config(format!(
            "{} holds client {}, not {id}",
            config.state_dir.display(),
            saved.client_id
        )));
    }
    let voucher = saved
        .voucher
        .map(ClientVoucher::tls_deserialize_exact)
        .transpose()
        .map_err(|e| Error::State {
            path: config.state_dir.clone(),
            detail: format!("stored voucher: {e}"),
        })?;
    let provider = SdkProvider::restore(saved.storage);
    let signer = SignatureKeyPair::read(
        openmls_traits::OpenMlsProvider::storage(&provider),
        &saved.signer_public,
        SignatureScheme::ED25519,
    )
    .ok_or_else(|| Error::State {
        path: config.state_dir.clone(),
        detail: "the client's key is missing from its storage".into(),
    })?;
    let mut mls = HashMap::new();
    for (gid, record) in &saved.groups {
        if !record.member {
            continue;
        }
        let group_id = openmls::group::GroupId::from_slice(gid.as_bytes());
        let group = MlsGroup::load(
            openmls_traits::OpenMlsProvider::storage(&provider),
            &group_id,
        )
        .map_err(|e| Error::State {
            path: config.state_dir.clone(),
            detail: format!("group {gid}: {e}"),
        })?;
        if let Some(group) = group {
            mls.insert(gid.clone(), group);
        }
    }
    Ok(Inner {
        identity: Identity {
            id: id.clone(),
            signer,
            voucher,
        },
        provider,
        registered: saved.registered,
        inbox: saved.inbox,
        groups: saved.groups,
        mls,
        pending: saved.pending,
        dir: config.state_dir.clone(),
        transport,
        tuning: config.tuning.clone(),
        due: None,
    })
}
