//! Settings the harness's configuration file leaves at their defaults (a
//! fan-out batch size, a shared PostgreSQL database), added to a node's
//! file. The file is read at start, so they take effect from the node's
//! next (re)start; [`Node::set_trust_roots`] rewrites the file without them.

use std::path::PathBuf;

use crate::node::Node;

/// What to add to a node's configuration.
#[derive(Debug, Default, Clone)]
pub struct Tuning {
    /// `database_url` (default: SQLite in the data directory).
    pub database_url: Option<String>,
    /// `federation.fanout_batch_entries` (default 500).
    pub fanout_batch_entries: Option<usize>,
}

/// Where [`Node`] writes its configuration.
fn config_file(node: &Node) -> PathBuf {
    node.config.data_dir.join("mimi-ds.toml")
}

/// Adds `tuning` to `node`'s configuration file.
pub fn tune(node: &Node, tuning: &Tuning) {
    let path = config_file(node);
    let mut text = std::fs::read_to_string(&path).unwrap();
    if let Some(entries) = tuning.fanout_batch_entries {
        let section = "\n[federation]\n";
        assert!(
            text.contains(section),
            "no [federation] in {}",
            path.display()
        );
        text = text.replacen(
            section,
            &format!("{section}fanout_batch_entries = {entries}\n"),
            1,
        );
    }
    if let Some(url) = &tuning.database_url {
        // Top-level keys go before the first table.
        text = format!("database_url = {url:?}\n{text}");
    }
    std::fs::write(&path, text).unwrap();
}
