//! The `[registration]` and `[queue]` settings and the service options built
//! from them.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use ds_server::config::{Config, ConfigError};
use ds_server::service::{RegistrationPolicy, ServiceOptions};

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::load_with_env(None, Some(env))
}

#[test]
fn defaults_are_open_registration_and_the_default_options() {
    let options = load(&[]).unwrap().service_options();
    let default = ServiceOptions::default();
    assert_eq!(options.registration, RegistrationPolicy::Open);
    assert_eq!(options.freshness_window, Duration::from_secs(300));
    assert_eq!(options.max_page_entries, 1000);
    assert_eq!(options.registration, default.registration);
    assert_eq!(options.freshness_window, default.freshness_window);
    assert_eq!(options.max_page_entries, default.max_page_entries);
}

#[test]
fn settings_reach_the_service_options() {
    let config = load(&[
        ("MIMI_DS__REGISTRATION__POLICY", "token"),
        ("MIMI_DS__QUEUE__FRESHNESS_WINDOW_SECS", "60"),
        ("MIMI_DS__QUEUE__MAX_PAGE_ENTRIES", "10000"),
    ])
    .unwrap();
    let options = config.service_options();
    assert_eq!(options.registration, RegistrationPolicy::Token);
    assert_eq!(options.freshness_window, Duration::from_secs(60));
    assert_eq!(options.max_page_entries, 10_000);
}

#[test]
fn the_example_file_documents_the_queue_settings() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/mimi-ds.example.toml");
    let config = Config::load_with_env(Some(&example), Some(HashMap::new())).unwrap();
    assert_eq!(config.registration, RegistrationPolicy::Open);
    assert_eq!(config.queue.freshness_window, Duration::from_secs(300));
    assert_eq!(config.queue.max_page_entries, 1000);
}

#[test]
fn invalid_queue_settings_are_typed_errors() {
    let err = load(&[("MIMI_DS__REGISTRATION__POLICY", "closed")]).unwrap_err();
    assert!(
        matches!(&err, ConfigError::RegistrationPolicy(p) if p == "closed"),
        "{err}"
    );
    let err = load(&[("MIMI_DS__QUEUE__FRESHNESS_WINDOW_SECS", "0")]).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::Zero {
                field: "queue.freshness_window_secs"
            }
        ),
        "{err}"
    );
    let err = load(&[("MIMI_DS__QUEUE__FRESHNESS_WINDOW_SECS", "3601")]).unwrap_err();
    assert!(
        matches!(err, ConfigError::TooLarge { value: 3601, .. }),
        "{err}"
    );
    let err = load(&[("MIMI_DS__QUEUE__MAX_PAGE_ENTRIES", "10001")]).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::TooLarge {
                field: "queue.max_page_entries",
                max: 10_000,
                ..
            }
        ),
        "{err}"
    );
    let err = load(&[("MIMI_DS__QUEUE__MAX_PAGE_ENTRY", "5")]).unwrap_err();
    assert!(matches!(err, ConfigError::Load(_)), "{err}");
}
