//! The handle registry: `int32_t` handles (> 0) mapped to typed objects. A handle of the wrong kind
//! or one already freed is an error, never a dangling pointer.

use super::audio::FfiTrack;
use super::client::FfiClient;
use super::dc::FfiDataChannel;
use super::error::{FfiError, FfiResult};
use super::pc::FfiPeerConnection;
use super::types::P2P_ERR_INVALID_HANDLE;
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone)]
pub enum Object {
    Client(Arc<FfiClient>),
    Pc(Arc<FfiPeerConnection>),
    Dc(Arc<FfiDataChannel>),
    AudioSource(Arc<crate::rtc::audio::AudioSource>),
    Track(Arc<FfiTrack>),
}

struct Registry {
    next: i32,
    objects: HashMap<i32, Object>,
}

static REGISTRY: Lazy<Mutex<Registry>> = Lazy::new(|| Mutex::new(Registry { next: 1, objects: HashMap::new() }));

/// Registers an object built with its own handle, and returns the handle.
pub fn insert_with(make: impl FnOnce(i32) -> Object) -> i32 {
    let mut r = REGISTRY.lock();
    // Handles are not reused until the counter wraps, so a stale handle almost never aliases.
    let mut id = r.next;
    while id <= 0 || r.objects.contains_key(&id) {
        id = if id == i32::MAX || id <= 0 { 1 } else { id + 1 };
    }
    r.next = if id == i32::MAX { 1 } else { id + 1 };
    let object = make(id);
    r.objects.insert(id, object);
    id
}

pub fn remove(id: i32) -> Option<Object> {
    REGISTRY.lock().objects.remove(&id)
}

/// True while `id` names an object (of any kind).
pub fn is_live(id: i32) -> bool {
    REGISTRY.lock().objects.contains_key(&id)
}

/// Every handle, removed at once (for `p2p_shutdown`).
pub fn drain() -> Vec<Object> {
    REGISTRY.lock().objects.drain().map(|(_, o)| o).collect()
}

fn get(id: i32) -> FfiResult<Object> {
    REGISTRY
        .lock()
        .objects
        .get(&id)
        .cloned()
        .ok_or_else(|| FfiError::new(P2P_ERR_INVALID_HANDLE, format!("handle {id} is unknown or destroyed")))
}

fn wrong_kind(id: i32, want: &str) -> FfiError {
    let article = if want.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    FfiError::new(P2P_ERR_INVALID_HANDLE, format!("handle {id} is not {article} {want}"))
}

pub fn client(id: i32) -> FfiResult<Arc<FfiClient>> {
    match get(id)? {
        Object::Client(c) => Ok(c),
        _ => Err(wrong_kind(id, "client")),
    }
}

pub fn pc(id: i32) -> FfiResult<Arc<FfiPeerConnection>> {
    match get(id)? {
        Object::Pc(p) => Ok(p),
        _ => Err(wrong_kind(id, "peer connection")),
    }
}

pub fn dc(id: i32) -> FfiResult<Arc<FfiDataChannel>> {
    match get(id)? {
        Object::Dc(d) => Ok(d),
        _ => Err(wrong_kind(id, "data channel")),
    }
}

pub fn audio_source(id: i32) -> FfiResult<Arc<crate::rtc::audio::AudioSource>> {
    match get(id)? {
        Object::AudioSource(s) => Ok(s),
        _ => Err(wrong_kind(id, "audio source")),
    }
}

pub fn track(id: i32) -> FfiResult<Arc<FfiTrack>> {
    match get(id)? {
        Object::Track(t) => Ok(t),
        _ => Err(wrong_kind(id, "audio track")),
    }
}

/// How many handles are live (for leak tests).
pub fn count() -> usize {
    REGISTRY.lock().objects.len()
}
