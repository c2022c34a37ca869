//! What JS sees: the native halves of the namespace's classes and
//! functions (`#[napi]`), one file per interface. They re-check every value
//! the JS shim (`lib/`) gives them and turn failures into JS errors.

pub mod global;
pub mod instance;
pub mod memory;
pub mod module;
pub mod process;
pub mod sandbox;
pub mod table;
pub mod tag;
pub mod transfer;
