//! The log callback (its own test binary: the callback is process-wide). Issue 15 item 11: it ran
//! under a plain read lock, so a callback that called into the library (which logged again) while
//! another thread set the callback deadlocked; setting it from inside itself waited for itself.

use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use webrtc_p2p::ffi::client::*;
use webrtc_p2p::ffi::log::p2p_set_log_callback;
use webrtc_p2p::ffi::types::*;

static LINES: AtomicUsize = AtomicUsize::new(0);
static INNER_SET: AtomicI32 = AtomicI32::new(1);

unsafe extern "C" fn on_log(_ud: *mut c_void, _level: i32, _line: *const c_char) {
    LINES.fetch_add(1, Ordering::SeqCst);
    // Calling into the library from the log callback is allowed; setting the callback is refused.
    let _ = p2p_handle_count();
    INNER_SET.store(p2p_set_log_callback(Some(on_log), ptr::null_mut(), P2P_LOG_VERBOSE), Ordering::SeqCst);
}

unsafe extern "C" fn on_result(_ud: *mut c_void, _request: i32, _status: i32, _json: *const c_char) {}

#[test]
fn the_log_callback_can_call_in_and_be_replaced_while_logging() {
    assert_eq!(p2p_set_log_callback(Some(on_log), ptr::null_mut(), P2P_LOG_VERBOSE), P2P_OK);
    let done = Arc::new(AtomicI32::new(0));
    // One thread keeps replacing the callback while clients fail to connect (which logs).
    let setter = {
        let done = done.clone();
        std::thread::spawn(move || {
            while done.load(Ordering::SeqCst) == 0 {
                assert_eq!(p2p_set_log_callback(Some(on_log), ptr::null_mut(), P2P_LOG_VERBOSE), P2P_OK);
                std::thread::yield_now();
            }
        })
    };
    let json = c"{\"signalingUrl\":\"http://127.0.0.1:9\",\"socket\":{\"connectionTimeoutMs\":500}}";
    let deadline = Instant::now() + Duration::from_secs(30);
    while LINES.load(Ordering::SeqCst) < 20 {
        assert!(Instant::now() < deadline, "no log lines, or a deadlock");
        let c = unsafe { p2p_client_create(json.as_ptr()) };
        assert!(c > 0);
        assert!(p2p_client_list_hosts(c, Some(on_result), ptr::null_mut()) > 0);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(p2p_client_destroy(c), P2P_OK);
    }
    done.store(1, Ordering::SeqCst);
    setter.join().unwrap();
    assert_eq!(INNER_SET.load(Ordering::SeqCst), P2P_ERR_INVALID_STATE, "set from inside the callback is refused");
    assert_eq!(p2p_set_log_callback(None, ptr::null_mut(), P2P_LOG_NONE), P2P_OK);
}
