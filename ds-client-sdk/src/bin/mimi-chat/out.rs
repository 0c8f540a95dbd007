//! Printing: one line at a time, flushed, so a pipe sees each line as soon
//! as it happens.
//!
//! Lines are `#NAME <user@domain> text` (a message), `#NAME * what`
//! (a membership change of that group), `* what` (the answer to a command)
//! and `! reason` (an error).

use std::io::Write;

/// Prints `text` as one line and flushes.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    // Text from other members must not forge lines: one line per message.
    let text = text.replace(['\n', '\r'], " ");
    // A closed stdout leaves nothing to tell; the input side ends us.
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// Prints an error line.
pub fn error(reason: impl std::fmt::Display) {
    line(&format!("! {reason}"));
}
