//! The C ABI and nothing else, in the style of libdatachannel's `rtc.h`: opaque `int32_t` handles,
//! a `user_data` pointer on every callback, negative `P2P_ERR_*` codes, a last-error string per
//! thread, no Rust types across the boundary, and every export wrapped in `catch_unwind`.
//!
//! Thread rules (repeated in the generated header): callbacks run on library threads, never on the
//! caller's; calls back into the library from inside a callback are allowed. A client's callbacks
//! never run concurrently with each other, and none runs after `p2p_client_destroy` returns.

pub mod audio;
pub mod client;
mod codes;
pub mod dc;
pub mod error;
mod gate;
mod handles;
pub mod log;
pub mod pc;
mod runtime;
pub mod stats;
mod strings;
pub mod types;
