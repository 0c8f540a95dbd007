//! What a line of input asks for.

use ds_client_sdk::{ClientId, UserId};

/// The help text (also `--help`'s epilogue).
pub const HELP: &str = "\
Commands (anything else is sent to the current group):
  /create NAME              create a group and make it current
  /invite USER@DOMAIN       invite a user: every device of it
  /invite USER@DOMAIN/DEVICE invite one device of a user
  /kick USER@DOMAIN         remove every client of a user from the current group
  /leave                    leave the current group
  /list                     members of the current group
  /groups                   the groups of this client
  /switch NAME              make a group current (by name or id)
  /help                     this text
  /quit                     exit";

/// One line of input.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Create(String),
    InviteClient(ClientId),
    InviteUser(UserId),
    Kick(UserId),
    Leave,
    List,
    Groups,
    Switch(String),
    Help,
    Quit,
    Send(String),
    /// An empty line: nothing to do.
    Nothing,
}

impl Command {
    /// The command of `line`, or why it is not one.
    pub fn parse(line: &str) -> Result<Self, String> {
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            return Ok(Self::Nothing);
        }
        // `//text` sends `/text`.
        if let Some(text) = line.strip_prefix("//") {
            return Ok(Self::Send(format!("/{text}")));
        }
        let Some(command) = line.strip_prefix('/') else {
            return Ok(Self::Send(line.to_owned()));
        };
        let (verb, arg) = match command.split_once(char::is_whitespace) {
            Some((verb, arg)) => (verb, arg.trim()),
            None => (command, ""),
        };
        let needs = |what: &str| {
            if arg.is_empty() {
                Err(format!("/{verb} needs {what}"))
            } else {
                Ok(arg.to_owned())
            }
        };
        let none = |command: Self| {
            if arg.is_empty() {
                Ok(command)
            } else {
                Err(format!("/{verb} takes no argument"))
            }
        };
        match verb {
            "create" => needs("a name").map(Self::Create),
            "invite" => {
                let who = needs("USER@DOMAIN or USER@DOMAIN/DEVICE")?;
                if who.contains('/') {
                    ClientId::new(&who)
                        .map(Self::InviteClient)
                        .map_err(|e| format!("{who}: {e}"))
                } else {
                    UserId::new(&who)
                        .map(Self::InviteUser)
                        .map_err(|e| format!("{who}: {e}"))
                }
            }
            "kick" => {
                let who = needs("USER@DOMAIN")?;
                match who.split_once('/') {
                    // A client names its user.
                    Some(_) => ClientId::new(&who).map(|c| c.user().clone()),
                    None => UserId::new(&who),
                }
                .map(Self::Kick)
                .map_err(|e| format!("{who}: {e}"))
            }
            "leave" => none(Self::Leave),
            "list" => none(Self::List),
            "groups" => none(Self::Groups),
            "switch" => needs("a group name").map(Self::Switch),
            "help" => Ok(Self::Help),
            "quit" | "exit" => none(Self::Quit),
            _ => Err(format!("unknown command /{verb}; /help lists them")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            Command::parse("hi there"),
            Ok(Command::Send("hi there".into()))
        );
        assert_eq!(Command::parse("//me"), Ok(Command::Send("/me".into())));
        assert_eq!(Command::parse("  "), Ok(Command::Nothing));
        assert_eq!(
            Command::parse("/create my team"),
            Ok(Command::Create("my team".into()))
        );
        assert!(matches!(
            Command::parse("/invite bob@ds-b.example/phone"),
            Ok(Command::InviteClient(_))
        ));
        assert!(matches!(
            Command::parse("/invite bob@ds-b.example"),
            Ok(Command::InviteUser(_))
        ));
        assert!(
            matches!(Command::parse("/kick bob@ds-b.example/phone"), Ok(Command::Kick(u)) if u.as_str() == "bob@ds-b.example")
        );
        assert!(Command::parse("/create").is_err());
        assert!(Command::parse("/list x").is_err());
        assert!(Command::parse("/frobnicate").is_err());
    }
}
