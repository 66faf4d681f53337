//! The stock code's SQL, written once for both backends, by what it touches.

mod holds;
mod orders;
mod variants;

pub use holds::*;
pub use orders::*;
pub use variants::*;
