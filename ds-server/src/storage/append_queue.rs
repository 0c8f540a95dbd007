//! Group commit for application messages: concurrent sends are queued and
//! written by a few writer tasks, each taking everything waiting (up to a
//! batch size) into one [`Store::append_messages`] transaction. Under load a
//! transaction — and on SQLite its WAL sync — is shared by many messages;
//! with a single sender it costs one transaction, as before. Every caller
//! still learns its own result only after the batch committed.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::{AppendMessage, AppendRejected, StorageError, Store, Timestamp};

/// What one queued message came to.
pub type AppendResult = Result<Result<u64, AppendRejected>, AppendFailed>;

/// The batch a message was in failed as a whole; nothing of it was written.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the append batch failed: {0}")]
pub struct AppendFailed(pub String);

struct Queued {
    message: AppendMessage,
    reply: oneshot::Sender<AppendResult>,
}

/// A handle to the append writers; cheap to clone. The writers stop when
/// the last handle is dropped.
#[derive(Debug, Clone)]
pub struct AppendQueue {
    sender: mpsc::Sender<Queued>,
}

impl std::fmt::Debug for Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queued")
            .field("group_id", &self.message.group_id)
            .finish_non_exhaustive()
    }
}

impl AppendQueue {
    /// Starts `writers` writer tasks (at least one) on the current Tokio
    /// runtime, each writing batches of at most `max_batch` messages.
    pub fn start(store: Store, writers: usize, max_batch: usize) -> Self {
        let max_batch = max_batch.max(1);
        let (sender, receiver) = mpsc::channel::<Queued>(max_batch * writers.max(1) * 4);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers.max(1) {
            tokio::spawn(write_batches(
                store.clone(),
                Arc::clone(&receiver),
                max_batch,
            ));
        }
        Self { sender }
    }

    /// Appends one message and waits until its batch committed.
    pub async fn append(&self, message: AppendMessage) -> AppendResult {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Queued { message, reply })
            .await
            .map_err(|_| AppendFailed("the append writers have stopped".into()))?;
        answer
            .await
            .map_err(|_| AppendFailed("the append writer dropped the message".into()))?
    }
}

/// One writer: waits for a message, takes whatever else is already queued,
/// writes the batch in one transaction and answers every caller.
async fn write_batches(
    store: Store,
    receiver: Arc<Mutex<mpsc::Receiver<Queued>>>,
    max_batch: usize,
) {
    let mut batch: Vec<Queued> = Vec::with_capacity(max_batch);
    loop {
        {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            batch.push(first);
            while batch.len() < max_batch {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        let messages: Vec<AppendMessage> = batch
            .iter_mut()
            .map(|q| std::mem::replace(&mut q.message, empty_message()))
            .collect();
        let results = store.append_messages(&messages, Timestamp::now()).await;
        answer(&mut batch, results);
    }
}

fn answer(
    batch: &mut Vec<Queued>,
    results: Result<Vec<Result<u64, AppendRejected>>, StorageError>,
) {
    match results {
        Ok(results) if results.len() == batch.len() => {
            for (queued, result) in batch.drain(..).zip(results) {
                // A caller that gave up waiting no longer needs the answer.
                let _ = queued.reply.send(Ok(result));
            }
        }
        Ok(_) => fail_all(batch, "storage answered a wrong number of results".into()),
        Err(error) => {
            tracing::error!(%error, "an append batch failed");
            fail_all(batch, error.to_string());
        }
    }
}

fn fail_all(batch: &mut Vec<Queued>, reason: String) {
    for queued in batch.drain(..) {
        let _ = queued.reply.send(Err(AppendFailed(reason.clone())));
    }
}

fn empty_message() -> AppendMessage {
    AppendMessage {
        group_id: String::new(),
        expected_epoch: 0,
        sender: String::new(),
        message: Vec::new(),
        outbox: Vec::new(),
    }
}
