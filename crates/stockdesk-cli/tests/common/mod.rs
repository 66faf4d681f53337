//! The shared harness, plus running the real `stockdesk` binary.
#![allow(dead_code, unused_imports)]

pub mod cli;

pub use stockdesk_testkit::*;
