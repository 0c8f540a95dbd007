//! The command line, and the SDK configuration it names.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use ds_client_sdk::{ClientConfig, Domain, UserId};

/// A chat over MIMI DSs: one device of one user, driven by lines on stdin
/// (interactively or through a pipe), printing what happens on stdout.
#[derive(Debug, Parser)]
#[command(name = "mimi-chat", version, after_help = crate::command::HELP)]
pub struct Args {
    /// The home DS, `https://HOST[:PORT]`; HOST is the user's domain.
    #[arg(long)]
    pub server: String,
    /// The user: `alice` or `alice@DOMAIN` (DOMAIN must be the server's).
    #[arg(long)]
    pub user: String,
    /// This device's name (the client id is `user@domain/device`).
    #[arg(long)]
    pub device: String,
    /// A PEM file of a CA that DS certificates chain to, instead of the
    /// system's roots (repeatable).
    #[arg(long = "ca", value_name = "FILE")]
    pub ca: Vec<PathBuf>,
    /// The client's state directory [default:
    /// ./mimi-chat-state/USER@DOMAIN/DEVICE].
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Reach DOMAIN's DS at HOST:PORT instead of DOMAIN:443 (repeatable); a
    /// mapping of the home domain overrides the server URL's address.
    #[arg(long = "peer", value_name = "DOMAIN=HOST:PORT")]
    pub peers: Vec<String>,
    /// The registration token, for a DS that requires one.
    #[arg(long)]
    pub token: Option<String>,
    /// After stdin ends, keep printing events until none came for this many
    /// seconds, then exit.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub linger: f64,
}

impl Args {
    /// The SDK configuration, or why there is none.
    pub fn config(&self) -> Result<ClientConfig, String> {
        let (domain, address) = parse_server(&self.server)?;
        let user = match self.user.split_once('@') {
            Some((_, d)) if d != domain.as_str() => {
                return Err(format!(
                    "user {} is not of the server's domain {domain}",
                    self.user
                ));
            }
            Some(_) => UserId::new(&self.user),
            None => UserId::from_parts(&self.user, &domain),
        }
        .map_err(|e| format!("user {:?}: {e}", self.user))?;
        let state = self.state.clone().unwrap_or_else(|| {
            PathBuf::from("mimi-chat-state")
                .join(user.as_str())
                .join(&self.device)
        });
        let mut config =
            ClientConfig::new(user, self.device.clone(), state).map_err(|e| e.to_string())?;
        config.trust_roots = self.ca.clone();
        config.peers = BTreeMap::from([(domain, address)]);
        for peer in &self.peers {
            let (d, addr) = peer
                .split_once('=')
                .filter(|(_, addr)| !addr.is_empty())
                .ok_or_else(|| format!("--peer {peer:?}: expected DOMAIN=HOST:PORT"))?;
            let d = Domain::new(d).map_err(|e| format!("--peer {peer:?}: {e}"))?;
            config.peers.insert(d, addr.to_owned());
        }
        config.registration_token = self.token.clone();
        Ok(config)
    }

    /// How long to wait for more events once stdin ended.
    pub fn linger(&self) -> Result<Duration, String> {
        Duration::try_from_secs_f64(self.linger).map_err(|e| format!("--linger: {e}"))
    }
}

/// The domain and `host:port` of `https://HOST[:PORT][/]`.
fn parse_server(url: &str) -> Result<(Domain, String), String> {
    let bad = |why: &str| format!("--server {url:?}: {why}");
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| bad("expected https://HOST[:PORT]"))?;
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('/') {
        return Err(bad("expected no path"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad("bad port"))?),
        None => (authority, 443),
    };
    let domain = Domain::new(host).map_err(|e| bad(&e.to_string()))?;
    Ok((domain, format!("{host}:{port}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        let (d, a) = parse_server("https://ds-a.example:8443").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (d.as_str(), a.as_str()),
            ("ds-a.example", "ds-a.example:8443")
        );
        let (_, a) = parse_server("https://ds-a.example/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, "ds-a.example:443");
        assert!(parse_server("http://ds-a.example").is_err());
        assert!(parse_server("https://ds-a.example:x").is_err());
    }
}
