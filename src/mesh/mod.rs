//! The group: who offers to whom, trickle or vanilla ICE, when the session counts as started, and the
//! orderly teardown. `state` holds the decisions as plain code; `peer` runs one remote peer; `session`
//! routes signaling messages to peers; `link` keeps the signaling connection up under it.

pub mod hooks;
mod link;
mod peer;
mod session;
pub mod state;

pub use hooks::Hooks;
pub use session::Session;
