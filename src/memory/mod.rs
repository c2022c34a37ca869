//! Who owns linear memory: the mappings we reserve for wasmtime (and the
//! address-space budget), slots for small memories, external buffers that
//! alias them, recycled memories, and the reclaimer that frees what JS can
//! no longer reach.

pub mod budget;
pub mod buffer;
pub mod full_gc;
pub mod internal;
pub mod mapping;
pub mod pool;
pub mod reclaim;
pub mod slab;
pub mod tracked;
