//! Waiting for what clients must (or must not) see.

use std::time::Duration;

use ds_client_sdk::{Client, ClientId, Event, GroupId};

use crate::scenario::{Context as _, Failure, Outcome, ensure};

/// How long an event that must come may take.
pub const EVENT_WAIT: Duration = Duration::from_secs(30);

/// How long a client must stay quiet to count as having received nothing.
pub const QUIET: Duration = Duration::from_millis(1500);

/// The client's next event, which must come in time.
pub async fn next(client: &Client) -> Result<Event, Failure> {
    client
        .next_event_within(EVENT_WAIT)
        .await
        .ctx(format!("{}: reading events", client.id()))?
        .ok_or_else(|| Failure(format!("{}: no event within {EVENT_WAIT:?}", client.id())))
}

/// The next event must be joining a group; its id.
pub async fn joined(client: &Client) -> Result<GroupId, Failure> {
    match next(client).await? {
        Event::Joined { group, .. } => Ok(group),
        other => Err(Failure(format!(
            "{}: expected Joined, got {other:?}",
            client.id()
        ))),
    }
}

/// The next application message, skipping membership changes of others
/// (`MembersAdded`, `MembersRemoved`): (group, sender, body).
pub async fn next_message(client: &Client) -> Result<(GroupId, ClientId, Vec<u8>), Failure> {
    loop {
        match next(client).await? {
            Event::Message {
                group,
                sender,
                body,
            } => return Ok((group, sender, body)),
            Event::MembersAdded { .. } | Event::MembersRemoved { .. } => {}
            other => {
                return Err(Failure(format!(
                    "{}: expected a message, got {other:?}",
                    client.id()
                )));
            }
        }
    }
}

/// The next message must be `body` from `sender` in `group`.
pub async fn expect_message(
    client: &Client,
    group: &GroupId,
    sender: &ClientId,
    body: &[u8],
) -> Outcome {
    let (got_group, got_sender, got_body) = next_message(client).await?;
    ensure!(
        &got_group == group && &got_sender == sender && got_body == body,
        "{}: expected {:?} from {sender} in {group}, got {:?} from {got_sender} in {got_group}",
        client.id(),
        String::from_utf8_lossy(body),
        String::from_utf8_lossy(&got_body)
    );
    Ok(())
}

/// The next `count` messages, in order, all in `group`: (sender, body); on
/// a shortfall, the failure says which came.
pub async fn messages(
    client: &Client,
    group: &GroupId,
    count: usize,
) -> Result<Vec<(ClientId, Vec<u8>)>, Failure> {
    let mut got = Vec::with_capacity(count);
    while got.len() < count {
        let (in_group, sender, body) = next_message(client).await.map_err(|e| {
            let came: Vec<String> = got
                .iter()
                .map(|(s, b): &(ClientId, Vec<u8>)| {
                    format!("{}:{}", s.user(), String::from_utf8_lossy(b))
                })
                .collect();
            Failure(format!(
                "{} (after {} of {count} messages: {came:?})",
                e.0,
                got.len()
            ))
        })?;
        ensure!(
            &in_group == group,
            "{}: a message of {in_group}, expected only {group}",
            client.id()
        );
        got.push((sender, body));
    }
    Ok(got)
}

/// The next event must be of a membership change of `group` of this kind.
pub async fn expect_event(
    client: &Client,
    what: &str,
    matches: impl Fn(&Event) -> bool,
) -> Result<Event, Failure> {
    let event = next(client).await?;
    ensure!(
        matches(&event),
        "{}: expected {what}, got {event:?}",
        client.id()
    );
    Ok(event)
}

/// No event may arrive within [`QUIET`].
pub async fn quiet(client: &Client) -> Outcome {
    let event = client
        .next_event_within(QUIET)
        .await
        .ctx(format!("{}: reading events", client.id()))?;
    ensure!(
        event.is_none(),
        "{}: unexpected event {event:?}",
        client.id()
    );
    Ok(())
}
