//! The operator settings in the configuration: `[admin] token_ttl_secs` and
//! `[removal]`, their defaults and their validation.

use std::collections::HashMap;
use std::time::Duration;

use ds_server::config::{Config, ConfigError};

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::load_with_env(None, Some(env))
}

#[test]
fn defaults_never_remove_and_tokens_last_a_week() {
    let config = load(&[]).unwrap();
    assert_eq!(config.token_ttl, Duration::from_secs(7 * 24 * 3600));
    assert_eq!(config.removal.inactivity_timeout, None);
    assert_eq!(config.removal.sweep_interval, Duration::from_secs(60));
    assert_eq!(config.service_options().inactivity_timeout, None);
}

#[test]
fn an_inactivity_timeout_reaches_the_service_options() {
    let config = load(&[
        ("MIMI_DS__REMOVAL__INACTIVITY_TIMEOUT_SECS", "86400"),
        ("MIMI_DS__REMOVAL__SWEEP_INTERVAL_SECS", "5"),
        ("MIMI_DS__ADMIN__TOKEN_TTL_SECS", "3600"),
    ])
    .unwrap();
    let day = Some(Duration::from_secs(86400));
    assert_eq!(config.removal.inactivity_timeout, day);
    assert_eq!(config.service_options().inactivity_timeout, day);
    assert_eq!(config.removal.sweep_interval, Duration::from_secs(5));
    assert_eq!(config.token_ttl, Duration::from_secs(3600));
}

#[test]
fn out_of_range_operator_settings_are_typed_errors() {
    for (key, value, field) in [
        (
            "MIMI_DS__REMOVAL__SWEEP_INTERVAL_SECS",
            "0",
            "removal.sweep_interval_secs",
        ),
        (
            "MIMI_DS__REMOVAL__SWEEP_INTERVAL_SECS",
            "3601",
            "removal.sweep_interval_secs",
        ),
        (
            "MIMI_DS__REMOVAL__INACTIVITY_TIMEOUT_SECS",
            "999999999",
            "removal.inactivity_timeout_secs",
        ),
        (
            "MIMI_DS__ADMIN__TOKEN_TTL_SECS",
            "0",
            "admin.token_ttl_secs",
        ),
    ] {
        match load(&[(key, value)]) {
            Err(ConfigError::Zero { field: f }) | Err(ConfigError::TooLarge { field: f, .. }) => {
                assert_eq!(f, field, "{key}={value}")
            }
            other => panic!("{key}={value}: {other:?}"),
        }
    }
}
