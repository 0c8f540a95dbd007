//! (to be written)

use crate::scenario::Scenario;

pub fn all() -> Vec<Scenario> {
    Vec::new()
}
