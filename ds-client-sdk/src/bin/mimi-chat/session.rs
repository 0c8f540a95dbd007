//! One chat session: the client, the current group and the names of the
//! groups, turning commands into SDK calls and events into lines.

use std::collections::HashMap;
use std::sync::Arc;

use ds_client_sdk::{Client, ClientId, Event, GroupId, UserId};

use crate::command::{Command, HELP};
use crate::out;

/// What [`Session::run`] tells the input loop.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

#[derive(Debug)]
pub struct Session {
    client: Arc<Client>,
    current: Option<GroupId>,
    /// Names of the groups seen, kept after leaving to name late events.
    names: HashMap<GroupId, String>,
}

impl Session {
    pub fn new(client: Arc<Client>) -> Self {
        Self {
            client,
            current: None,
            names: HashMap::new(),
        }
    }

    /// Runs one command, printing its outcome.
    pub async fn run(&mut self, command: Command) -> Flow {
        self.try_run(command).await.unwrap_or_else(|reason| {
            out::error(reason);
            Flow::Continue
        })
    }

    async fn try_run(&mut self, command: Command) -> Result<Flow, String> {
        let text = |e: ds_client_sdk::Error| e.to_string();
        match command {
            Command::Nothing => {}
            Command::Help => HELP.lines().for_each(|l| out::line(&format!("* {l}"))),
            Command::Quit => return Ok(Flow::Quit),
            Command::Create(name) => {
                let group = self.client.create_group(&name).await.map_err(text)?;
                self.names.insert(group.clone(), name.clone());
                out::line(&format!("* created #{name} ({group})"));
                self.make_current(group);
            }
            Command::InviteClient(client) => {
                let group = self.current()?;
                self.client
                    .invite(&group, std::slice::from_ref(&client))
                    .await
                    .map_err(text)?;
                out::line(&format!("* invited {client} to #{}", self.name(&group)));
            }
            Command::InviteUser(user) => {
                let group = self.current()?;
                self.client
                    .invite_users(&group, std::slice::from_ref(&user))
                    .await
                    .map_err(text)?;
                out::line(&format!("* invited {user} to #{}", self.name(&group)));
            }
            Command::Kick(user) => {
                let group = self.current()?;
                self.client.remove(&group, &user).await.map_err(text)?;
                out::line(&format!("* removed {user} from #{}", self.name(&group)));
            }
            Command::Leave => {
                let group = self.current()?;
                self.client.leave(&group).await.map_err(text)?;
                out::line(&format!(
                    "* leaving #{} (`you left` follows once a member's client commits it)",
                    self.name(&group)
                ));
                self.current = None;
            }
            Command::List => {
                let group = self.current()?;
                let members = self.client.members(&group).await.map_err(text)?;
                let members: Vec<&str> = members.iter().map(ClientId::as_str).collect();
                out::line(&format!(
                    "* members of #{}: {}",
                    self.name(&group),
                    members.join(", ")
                ));
            }
            Command::Groups => {
                let groups = self.client.groups().await.map_err(text)?;
                if groups.is_empty() {
                    out::line("* no groups");
                }
                for g in groups {
                    let mark = if self.current.as_ref() == Some(&g.id) {
                        " (current)"
                    } else {
                        ""
                    };
                    out::line(&format!("* group #{} {}{mark}", g.name, g.id));
                    self.names.insert(g.id, g.name);
                }
            }
            Command::Switch(name) => {
                let groups = self.client.groups().await.map_err(text)?;
                let matching: Vec<_> = groups
                    .iter()
                    .filter(|g| g.name == name || g.id.as_str() == name)
                    .collect();
                match matching.as_slice() {
                    [] => return Err(format!("no group {name}; /groups lists them")),
                    [one] => self.make_current(one.id.clone()),
                    more => {
                        let ids: Vec<&str> = more.iter().map(|g| g.id.as_str()).collect();
                        return Err(format!(
                            "several groups are named {name}; /switch one of {}",
                            ids.join(", ")
                        ));
                    }
                }
            }
            Command::Send(text_) => {
                let group = self.current()?;
                self.client
                    .send(&group, text_.as_bytes())
                    .await
                    .map_err(text)?;
            }
        }
        Ok(Flow::Continue)
    }

    /// Prints an event.
    pub async fn show(&mut self, event: Event) {
        match event {
            Event::Joined { group, name } => {
                self.names.insert(group.clone(), name.clone());
                out::line(&format!("#{name} * you joined"));
                if self.current.is_none() {
                    self.make_current(group);
                }
            }
            Event::Message {
                group,
                sender,
                body,
            } => {
                let name = self.lookup(&group).await;
                out::line(&format!(
                    "#{name} <{}> {}",
                    sender.user(),
                    String::from_utf8_lossy(&body)
                ));
            }
            Event::MembersAdded { group, members } => {
                let name = self.lookup(&group).await;
                for user in users(&members) {
                    out::line(&format!("#{name} * {user} joined"));
                }
            }
            Event::MembersRemoved { group, members } => {
                let name = self.lookup(&group).await;
                for user in users(&members) {
                    out::line(&format!("#{name} * {user} left"));
                }
            }
            Event::Removed { group } => {
                let name = self.lookup(&group).await;
                out::line(&format!("#{name} * you left"));
                if self.current.as_ref() == Some(&group) {
                    self.current = None;
                }
            }
        }
    }

    fn make_current(&mut self, group: GroupId) {
        out::line(&format!("* current group #{}", self.name(&group)));
        self.current = Some(group);
    }

    fn current(&self) -> Result<GroupId, String> {
        self.current
            .clone()
            .ok_or_else(|| "no current group: /create NAME or /switch NAME".to_owned())
    }

    /// The group's name as known, else its id.
    fn name(&self, group: &GroupId) -> String {
        self.names
            .get(group)
            .cloned()
            .unwrap_or_else(|| group.to_string())
    }

    /// The group's name, asking the client if it is not known yet.
    async fn lookup(&mut self, group: &GroupId) -> String {
        if !self.names.contains_key(group)
            && let Ok(groups) = self.client.groups().await
        {
            self.names
                .extend(groups.into_iter().map(|g| (g.id, g.name)));
        }
        self.name(group)
    }
}

/// The users of `members`, each once, in order.
fn users(members: &[ClientId]) -> Vec<&UserId> {
    let mut users: Vec<&UserId> = Vec::new();
    for m in members {
        if !users.contains(&m.user()) {
            users.push(m.user());
        }
    }
    users
}
