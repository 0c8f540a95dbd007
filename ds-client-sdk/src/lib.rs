//! What applications embed: an openmls-based client that speaks the MIMI DS
//! protocol, keeps its state on disk and hides the request plumbing, plus
//! the example `mimi-chat` CLI.
//!
//! Not built yet: this crate is the subject of issue 5.
