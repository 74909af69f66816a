//! `p2p_client_*`: create and destroy clients, register event callbacks and pc hooks, start and stop.

use super::codes::{event_code, role_code};
use super::error::{guard, FfiError, FfiResult};
use super::gate::{in_callback, invoke, invoke_live, CallbackGate};
use super::handles::{self, Object};
use super::pc::FfiPeerConnection;
use super::runtime;
use super::strings::{arg, c_string, copy_out};
use super::types::*;
use crate::client::PeerClient;
use crate::config::PeerConfig;
use crate::error::P2pError;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long the blocking `p2p_client_stop` / `p2p_client_destroy` wait for byes and closes.
pub const STOP_WAIT: Duration = Duration::from_secs(5);

/// A `void*` the app gave us; we only hand it back.
#[derive(Clone, Copy)]
pub struct UserData(pub *mut c_void);

impl UserData {
    /// The pointer; a method so closures capture the whole (Send) wrapper, not the raw field.
    pub fn get(self) -> *mut c_void {
        self.0
    }
}
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// The C callbacks a client keeps (the non-NULL forms of `p2p_event_cb`, `p2p_pc_create_cb`,
/// `p2p_pc_close_cb`).
type EventFn = unsafe extern "C" fn(*mut c_void, i32, i32, *const c_char);
type PcCreateFn = unsafe extern "C" fn(*mut c_void, i32, *const c_char, bool, i32);
type PcCloseFn = unsafe extern "C" fn(*mut c_void, i32, *const c_char);

/// A client behind a handle: the core client, its gate, and the C callbacks.
pub struct FfiClient {
    pub id: i32,
    pub core: Arc<PeerClient>,
    pub gate: Arc<CallbackGate>,
    event_cb: Mutex<Option<(EventFn, UserData)>>,
    create_hooks: Mutex<Vec<(PcCreateFn, UserData)>>,
    close_hooks: Mutex<Vec<(PcCloseFn, UserData)>>,
    /// Peer id -> pc handle, so the pc (and its channels) can be freed when the connection closes.
    pcs: Mutex<HashMap<String, Arc<FfiPeerConnection>>>,
}

impl FfiClient {
    fn free_pc(&self, peer_id: &str) {
        if let Some(pc) = self.pcs.lock().remove(peer_id) {
            pc.free_handles();
        }
    }

    fn free_all(&self) {
        let pcs: Vec<_> = self.pcs.lock().drain().map(|(_, pc)| pc).collect();
        for pc in pcs {
            pc.free_handles();
        }
    }
}

static NEXT_REQUEST: AtomicI32 = AtomicI32::new(1);

fn next_request() -> i32 {
    let id = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
    if id <= 0 {
        NEXT_REQUEST.store(2, Ordering::Relaxed);
        return 1;
    }
    id
}

/// Creates a client from its JSON config (see the README for the keys). Returns the handle (> 0)
/// or a `P2P_ERR_*`. Does not connect: the first start or list does.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
#[no_mangle]
pub unsafe extern "C" fn p2p_client_create(config_json: *const c_char) -> i32 {
    guard(|| {
        let json = unsafe { arg(config_json, "config_json") }?;
        let config = PeerConfig::from_json(json)?;
        let core = Arc::new(PeerClient::new(config)?);
        let gate = Arc::new(CallbackGate::default());
        let mut events = core.subscribe();
        let id = handles::insert_with(|id| {
            Object::Client(Arc::new(FfiClient {
                id,
                core: core.clone(),
                gate: gate.clone(),
                event_cb: Mutex::new(None),
                create_hooks: Mutex::new(Vec::new()),
                close_hooks: Mutex::new(Vec::new()),
                pcs: Mutex::new(HashMap::new()),
            }))
        });
        let client = handles::client(id)?;
        install_core_hooks(&client);
        // Events reach the app in order, one at a time, through the gate.
        let weak = Arc::downgrade(&client);
        runtime::spawn(async move {
            while let Some(event) = events.recv().await {
                let Some(client) = weak.upgrade() else { break };
                let cb = *client.event_cb.lock();
                if let Some((cb, ud)) = cb {
                    let arg = c_string(event.arg());
                    invoke(&client.gate, || unsafe { cb(ud.get(), client.id, event_code(&event), arg.as_ptr()) });
                }
            }
        });
        Ok(id)
    })
}

/// One core hook per client that gives each new connection a handle and runs the C hooks inline, so
/// the app's data channels exist before the offer is made.
fn install_core_hooks(client: &Arc<FfiClient>) {
    let weak = Arc::downgrade(client);
    client.core.add_pc_create_hook(move |peer_id, is_offer, pc| {
        let weak = weak.clone();
        async move {
            let Some(client) = weak.upgrade() else { return };
            let ffi_pc = FfiPeerConnection::register(pc, peer_id.clone(), client.id, client.gate.clone());
            client.pcs.lock().insert(peer_id.clone(), ffi_pc.clone());
            let hooks = client.create_hooks.lock().clone();
            let peer = c_string(&peer_id);
            for (cb, ud) in hooks {
                invoke_live(&client.gate, ffi_pc.handle, || unsafe {
                    cb(ud.get(), client.id, peer.as_ptr(), is_offer, ffi_pc.handle)
                });
            }
        }
    });
    let weak = Arc::downgrade(client);
    client.core.add_pc_close_hook(move |peer_id| {
        let Some(client) = weak.upgrade() else { return };
        let hooks = client.close_hooks.lock().clone();
        let peer = c_string(peer_id);
        for (cb, ud) in hooks {
            invoke(&client.gate, || unsafe { cb(ud.get(), client.id, peer.as_ptr()) });
        }
        client.free_pc(peer_id);
    });
}

/// Destroys a client: stops it (bye to peers, bounded by 5 s; from inside a callback the stop
/// finishes in the background) and frees its handles and those of its connections and channels.
/// After it returns no callback of this client runs again.
#[no_mangle]
pub extern "C" fn p2p_client_destroy(client: i32) -> i32 {
    guard(|| {
        let c = handles::client(client)?;
        handles::remove(client);
        c.gate.close();
        end_core(&c.core, End::Close);
        c.free_all();
        Ok(P2P_OK)
    })
}

/// How a client's core is ended: `Stop` (it may start again) or `Close` (destroyed for good, so a
/// request still in flight cannot start it again).
#[derive(Clone, Copy)]
enum End {
    Stop,
    Close,
}

fn end_core(core: &Arc<PeerClient>, how: End) {
    let core = core.clone();
    let work = async move {
        match how {
            End::Stop => core.stop().await,
            End::Close => core.close().await,
        }
    };
    if in_callback() {
        runtime::spawn(work);
    } else if runtime::block_on(STOP_WAIT, work).is_none() {
        tracing::warn!("stop did not finish within {STOP_WAIT:?}; it goes on in the background");
    }
}

/// Sets (or with NULL clears) the event callback. Events: `P2P_EVENT_*`.
#[no_mangle]
pub extern "C" fn p2p_client_set_event_callback(client: i32, cb: p2p_event_cb, user_data: *mut c_void) -> i32 {
    guard(|| {
        let c = handles::client(client)?;
        *c.event_cb.lock() = cb.map(|cb| (cb, UserData(user_data)));
        Ok(P2P_OK)
    })
}

/// Adds a hook called for every new peer connection, before negotiation, on a library thread.
#[no_mangle]
pub extern "C" fn p2p_client_add_pc_create_hook(client: i32, cb: p2p_pc_create_cb, user_data: *mut c_void) -> i32 {
    guard(|| {
        let c = handles::client(client)?;
        let cb = cb.ok_or_else(|| FfiError::arg("cb is NULL"))?;
        c.create_hooks.lock().push((cb, UserData(user_data)));
        Ok(P2P_OK)
    })
}

/// Adds a hook called once when a peer connection closes.
#[no_mangle]
pub extern "C" fn p2p_client_add_pc_close_hook(client: i32, cb: p2p_pc_close_cb, user_data: *mut c_void) -> i32 {
    guard(|| {
        let c = handles::client(client)?;
        let cb = cb.ok_or_else(|| FfiError::arg("cb is NULL"))?;
        c.close_hooks.lock().push((cb, UserData(user_data)));
        Ok(P2P_OK)
    })
}

/// Runs `work` in the background and reports through `result_cb`; returns the request id. `work`
/// is called here, synchronously, so the call counts as made now: a stop right after cancels it.
pub(super) fn request<F>(
    client: i32,
    result_cb: p2p_result_cb,
    user_data: *mut c_void,
    work: impl FnOnce(Arc<PeerClient>) -> F,
) -> FfiResult<i32>
where
    F: std::future::Future<Output = Result<String, P2pError>> + Send + 'static,
{
    let c = handles::client(client)?;
    let cb = result_cb.ok_or_else(|| FfiError::arg("result_cb is NULL"))?;
    let ud = UserData(user_data);
    let request = next_request();
    let fut = work(c.core.clone());
    let gate = c.gate.clone();
    runtime::spawn(async move {
        let (status, json) = match fut.await {
            Ok(json) => (P2P_OK, json),
            Err(e) => (super::error::code_of(&e), serde_json::json!({ "error": e.to_string() }).to_string()),
        };
        let json = c_string(&json);
        invoke(&gate, || unsafe { cb(ud.get(), request, status, json.as_ptr()) });
    });
    Ok(request)
}

/// Creates the group `name` and becomes its host. Asynchronous: returns a request id; `result_cb`
/// gets 0, `P2P_ERR_HOST_EXISTS`, or another error.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
#[no_mangle]
pub unsafe extern "C" fn p2p_client_start_host(
    client: i32,
    name: *const c_char,
    result_cb: p2p_result_cb,
    user_data: *mut c_void,
) -> i32 {
    guard(|| {
        let name = crate::client::validate_host_name(unsafe { arg(name, "name") }?)?.to_string();
        request(client, result_cb, user_data, move |core| {
            let started = core.start_host(&name);
            async move { started.await.map(|_| "{}".to_string()) }
        })
    })
}

/// Lists the groups. Asynchronous: `result_cb` gets `[{"id":"…","name":"…"}]`.
#[no_mangle]
pub extern "C" fn p2p_client_list_hosts(client: i32, result_cb: p2p_result_cb, user_data: *mut c_void) -> i32 {
    guard(|| {
        request(client, result_cb, user_data, |core| {
            let listed = core.list_hosts();
            async move { Ok(serde_json::to_string(&listed.await?).unwrap_or_else(|_| "[]".into())) }
        })
    })
}

/// Joins the group of `host_id`. Asynchronous: `result_cb` gets 0 once started, or
/// `P2P_ERR_START_FAILED` after the P2P timeout.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
#[no_mangle]
pub unsafe extern "C" fn p2p_client_start_client(
    client: i32,
    host_id: *const c_char,
    result_cb: p2p_result_cb,
    user_data: *mut c_void,
) -> i32 {
    guard(|| {
        let host_id = unsafe { arg(host_id, "host_id") }?.to_string();
        if host_id.is_empty() || host_id.len() > crate::client::MAX_PEER_ID_BYTES {
            return Err(FfiError::arg("host_id must be 1 to 256 bytes"));
        }
        request(client, result_cb, user_data, move |core| {
            let started = core.start_client(&host_id);
            async move { started.await.map(|_| "{}".to_string()) }
        })
    })
}

/// Stops the client: bye to every peer, close every connection (close hooks run), disconnect.
/// Blocks up to 5 s; called from inside a callback it returns at once and stops in the background.
#[no_mangle]
pub extern "C" fn p2p_client_stop(client: i32) -> i32 {
    guard(|| {
        let c = handles::client(client)?;
        end_core(&c.core, End::Stop);
        Ok(P2P_OK)
    })
}

/// 1 while hosting or joined, 0 otherwise, or a `P2P_ERR_*`.
#[no_mangle]
pub extern "C" fn p2p_client_is_running(client: i32) -> i32 {
    guard(|| Ok(handles::client(client)?.core.is_running() as i32))
}

/// `P2P_ROLE_*` of the client, or a `P2P_ERR_*`.
#[no_mangle]
pub extern "C" fn p2p_client_get_role(client: i32) -> i32 {
    guard(|| Ok(role_code(handles::client(client)?.core.role())))
}

/// Copies the client's socket id (empty when not connected) into `buffer`. Returns the size needed,
/// NUL included; the id was copied whole iff that is <= `size`.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
#[no_mangle]
pub unsafe extern "C" fn p2p_client_get_id(client: i32, buffer: *mut c_char, size: i32) -> i32 {
    guard(|| {
        let id = handles::client(client)?.core.client_id().unwrap_or_default();
        Ok(unsafe { copy_out(&id, buffer, size) })
    })
}

/// Copies the host's id (empty when not in a group) into `buffer`; returns like `p2p_client_get_id`.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
#[no_mangle]
pub unsafe extern "C" fn p2p_client_get_host_id(client: i32, buffer: *mut c_char, size: i32) -> i32 {
    guard(|| {
        let id = handles::client(client)?.core.host_id().unwrap_or_default();
        Ok(unsafe { copy_out(&id, buffer, size) })
    })
}

/// Destroys every client and frees every handle, clears the log callback, then stops the library's runtime: for an editor
/// domain reload. Blocks up to ~7 s. Must not be called from inside a callback.
#[no_mangle]
pub extern "C" fn p2p_shutdown() -> i32 {
    guard(|| {
        if in_callback() || runtime::on_runtime_thread() {
            return Err(FfiError::new(P2P_ERR_INVALID_STATE, "p2p_shutdown cannot be called from a callback"));
        }
        super::log::clear();
        let objects = handles::drain();
        for object in &objects {
            if let Object::Client(c) = object {
                c.gate.close();
            }
        }
        for object in &objects {
            if let Object::Client(c) = object {
                end_core(&c.core, End::Close);
            }
        }
        drop(objects);
        runtime::shutdown(Duration::from_secs(2));
        Ok(P2P_OK)
    })
}

/// The library version, a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn p2p_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

/// Live handles of every kind (for leak checks in tests and apps).
#[no_mangle]
pub extern "C" fn p2p_handle_count() -> i32 {
    guard(|| Ok(handles::count() as i32))
}
