//! Who is listening in this process, and waking them.
//!
//! Each push connection registers one [`Notify`] under its client id. A
//! wake-up stores at most one permit per connection, so wake-ups that arrive
//! while a connection is reading are never lost, and a burst of them costs
//! one re-read. The registry is only touched briefly under a plain mutex;
//! waking never waits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use ds_core::group::Roster;
use ds_core::wire::ClientId;
use tokio::sync::Notify;

use crate::storage::GroupChange;

/// The registry of listening push connections (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    registry: Arc<Mutex<Registry>>,
}

#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    clients: HashMap<String, Listeners>,
}

/// The connections of one client (several devices' sessions are several
/// clients; one client may still hold a few connections).
#[derive(Debug)]
struct Listeners {
    client: ClientId,
    connections: Vec<(u64, Arc<Notify>)>,
}

impl Listeners {
    fn wake(&self) {
        for (_, notify) in &self.connections {
            notify.notify_one();
        }
    }
}

impl Notifier {
    /// A registry with no listeners.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        // Every critical section leaves the map consistent, so a panic
        // elsewhere while holding the lock cannot corrupt it.
        match self.registry.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Registers a connection of `client`; it is woken until the returned
    /// subscription is dropped.
    pub fn subscribe(&self, client: &ClientId) -> Subscription {
        let notify = Arc::new(Notify::new());
        let mut registry = self.lock();
        let id = registry.next_id;
        registry.next_id = registry.next_id.wrapping_add(1);
        registry
            .clients
            .entry(client.as_str().to_owned())
            .or_insert_with(|| Listeners {
                client: client.clone(),
                connections: Vec::new(),
            })
            .connections
            .push((id, Arc::clone(&notify)));
        Subscription {
            notifier: self.clone(),
            client: client.as_str().to_owned(),
            id,
            notify,
        }
    }

    /// Wakes the connections of these clients (inbox owners, removed members).
    pub fn wake_clients<'a>(&self, clients: impl IntoIterator<Item = &'a str>) {
        let registry = self.lock();
        if registry.clients.is_empty() {
            return;
        }
        for client in clients {
            if let Some(listeners) = registry.clients.get(client) {
                listeners.wake();
            }
        }
    }

    /// Wakes the listening members of a group whose log just grew. Costs
    /// O(min(listeners here, members)): a message to a group of a thousand
    /// does not look at a thousand members when few of them are online, nor
    /// at every online client when the group is small.
    pub fn wake_members(&self, roster: &Roster) {
        let registry = self.lock();
        if registry.clients.len() <= roster.len() {
            for listeners in registry.clients.values() {
                if roster.contains(&listeners.client) {
                    listeners.wake();
                }
            }
        } else {
            for client in roster.clients() {
                if let Some(listeners) = registry.clients.get(client.as_str()) {
                    listeners.wake();
                }
            }
        }
    }

    /// Wakes everyone a committed group change concerns: the group's members
    /// after it (`roster`), the members it removed (they receive the commit
    /// that removed them) and the owners of the inbox entries it wrote.
    pub fn wake_group_change(&self, roster: &Roster, change: &GroupChange) {
        self.wake_members(roster);
        self.wake_clients(
            change
                .removed
                .iter()
                .map(String::as_str)
                .chain(change.inbox.iter().map(|entry| entry.client_id.as_str())),
        );
    }

    /// Number of clients with at least one listening connection.
    pub fn listening_clients(&self) -> usize {
        self.lock().clients.len()
    }

    fn unsubscribe(&self, client: &str, id: u64) {
        let mut registry = self.lock();
        if let Some(listeners) = registry.clients.get_mut(client) {
            listeners.connections.retain(|(other, _)| *other != id);
            if listeners.connections.is_empty() {
                registry.clients.remove(client);
            }
        }
    }
}

/// One connection's registration; dropping it unregisters.
#[derive(Debug)]
pub struct Subscription {
    notifier: Notifier,
    client: String,
    id: u64,
    notify: Arc<Notify>,
}

impl Subscription {
    /// Completes once a wake-up came since the last one was taken (at once
    /// if one is pending). Cancel-safe: a pending wake-up is not consumed by
    /// a future that is dropped before completing.
    pub async fn woken(&self) {
        self.notify.notified().await;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.notifier.unsubscribe(&self.client, self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn id(s: &str) -> ClientId {
        ClientId::new(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    async fn is_woken(subscription: &Subscription) -> bool {
        tokio::time::timeout(Duration::from_millis(50), subscription.woken())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_wake_before_waiting_is_kept_and_bursts_collapse() {
        let notifier = Notifier::new();
        let alice = notifier.subscribe(&id("alice@a.example/1"));
        notifier.wake_clients(["alice@a.example/1"]);
        notifier.wake_clients(["alice@a.example/1"]);
        assert!(
            is_woken(&alice).await,
            "the stored wake-up completes at once"
        );
        assert!(!is_woken(&alice).await, "two wake-ups collapse into one");
    }

    #[tokio::test]
    async fn only_the_named_clients_and_every_connection_of_them_wake() {
        let notifier = Notifier::new();
        let alice_1 = notifier.subscribe(&id("alice@a.example/1"));
        let alice_2 = notifier.subscribe(&id("alice@a.example/1"));
        let bob = notifier.subscribe(&id("bob@a.example/1"));
        notifier.wake_clients(["alice@a.example/1", "nobody@a.example/1"]);
        assert!(is_woken(&alice_1).await);
        assert!(is_woken(&alice_2).await);
        assert!(!is_woken(&bob).await);
    }

    #[tokio::test]
    async fn dropping_a_subscription_unregisters_it() {
        let notifier = Notifier::new();
        let first = notifier.subscribe(&id("alice@a.example/1"));
        let second = notifier.subscribe(&id("alice@a.example/1"));
        assert_eq!(notifier.listening_clients(), 1);
        drop(first);
        assert_eq!(notifier.listening_clients(), 1);
        drop(second);
        assert_eq!(notifier.listening_clients(), 0);
    }
}
