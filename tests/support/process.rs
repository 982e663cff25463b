//! A child process that is stopped when the test ends, also when an assertion fails first.

use std::ops::{Deref, DerefMut};
use std::process::Child;

/// Owns a spawned server; `Drop` kills it (SIGKILL) and reaps it if it is still running.
pub struct Stopped(pub Child);

impl Deref for Stopped {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Stopped {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
