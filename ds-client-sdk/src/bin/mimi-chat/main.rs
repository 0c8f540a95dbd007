//! `mimi-chat`: a chat over MIMI DSs built only on the public API of
//! `ds-client-sdk`. One process is one device of one user; it reads
//! commands and messages as lines on stdin and prints events as lines on
//! stdout (formats in `out.rs`, commands in `command.rs`), so people and
//! scripts (pipes, no TTY) drive it alike. It keeps nothing of its own: the
//! client's state directory holds everything.

mod args;
mod command;
mod out;
mod session;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use ds_client_sdk::{Client, Error, Event};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use args::Args;
use command::Command;
use session::{Flow, Session};

/// How long to wait before asking for events again after a failure.
const RETRY: Duration = Duration::from_secs(1);

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let (config, linger) = match args.config().and_then(|c| Ok((c, args.linger()?))) {
        Ok(both) => both,
        Err(reason) => {
            out::error(reason);
            return ExitCode::from(2);
        }
    };
    let client = match Client::open(config).await {
        Ok(client) => Arc::new(client),
        Err(e) => {
            out::error(format!("opening the client: {e}"));
            return ExitCode::FAILURE;
        }
    };
    out::line(&format!(
        "* connected as {}; /help lists the commands",
        client.id()
    ));
    let (events, mut incoming) = mpsc::unbounded_channel();
    let reader = tokio::spawn(read_events(Arc::clone(&client), events));
    let mut session = Session::new(client);
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = stdin.next_line() => match line {
                Ok(Some(line)) => {
                    let flow = match Command::parse(&line) {
                        Ok(command) => session.run(command).await,
                        Err(reason) => {
                            out::error(reason);
                            Flow::Continue
                        }
                    };
                    if flow == Flow::Quit {
                        break;
                    }
                }
                Ok(None) => {
                    // Input ended: print what still comes, until quiet.
                    while let Ok(Some(event)) = tokio::time::timeout(linger, incoming.recv()).await {
                        show(&mut session, event).await;
                    }
                    break;
                }
                Err(e) => {
                    out::error(format!("reading stdin: {e}"));
                    break;
                }
            },
            Some(event) = incoming.recv() => show(&mut session, event).await,
        }
    }
    // Events already taken from the client are printed, not lost.
    reader.abort();
    while let Ok(event) = incoming.try_recv() {
        show(&mut session, event).await;
    }
    // stdin may still be open (after /quit); its reading thread must not
    // keep the process alive.
    std::process::exit(0)
}

async fn show(session: &mut Session, event: Result<Event, Error>) {
    match event {
        Ok(event) => session.show(event).await,
        Err(e) => out::error(format!("receiving: {e}")),
    }
}

/// Takes the client's events as they come and hands them on at once, so an
/// event taken is never dropped with a cancelled future.
async fn read_events(client: Arc<Client>, events: mpsc::UnboundedSender<Result<Event, Error>>) {
    loop {
        let event = client.next_event().await;
        let stop = matches!(event, Err(Error::Closed));
        let failed = event.is_err();
        if events.send(event).is_err() || stop {
            return;
        }
        if failed {
            tokio::time::sleep(RETRY).await;
        }
    }
}
