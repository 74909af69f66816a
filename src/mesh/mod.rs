//! The group: who offers to whom, trickle or vanilla ICE, when the session counts as started, and the
//! orderly teardown. `state` takes every decision as a sans-IO state machine; `session` feeds it
//! (signaling, pc events, app commands, timers) and carries its outputs out; `peer` executes the
//! outputs for one pc in order; `link` keeps the signaling connection up under it.

pub mod hooks;
mod link;
mod peer;
mod session;
pub mod state;
#[cfg(test)]
mod vectors;

pub use hooks::Hooks;
pub use session::Session;
