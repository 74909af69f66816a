//! Memory and handles over many create/destroy cycles through the C ABI. A binary of its own: it
//! measures this process's RSS, which tests running beside it (the back-pressure test buffers tens
//! of MB) would disturb.

use std::ffi::{c_char, c_void, CString};
use std::ptr;
use webrtc_p2p::ffi::client::*;
use webrtc_p2p::ffi::types::*;

unsafe extern "C" fn on_event(_ud: *mut c_void, _client: i32, _event: i32, _arg: *const c_char) {}

fn config_json(url: &str) -> CString {
    CString::new(format!(
        r#"{{"signalingUrl":"{url}","socket":{{"connectionTimeoutMs":3000}},"bindAddresses":["127.0.0.1:0"]}}"#
    ))
    .unwrap()
}

fn rss_kib() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    statm.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 4
}

#[test]
fn a_thousand_create_destroy_cycles_leave_no_handles_and_little_memory() {
    let json = config_json("http://127.0.0.1:9");
    let before_handles = p2p_handle_count();
    let mut rss_after_warmup = 0;
    for i in 0..1_000 {
        let c = unsafe { p2p_client_create(json.as_ptr()) };
        assert!(c > 0);
        assert_eq!(p2p_client_set_event_callback(c, Some(on_event), ptr::null_mut()), P2P_OK);
        assert_eq!(p2p_client_destroy(c), P2P_OK);
        if i == 99 {
            rss_after_warmup = rss_kib();
        }
    }
    // Loosely: no per-cycle growth (allocator noise stays well under the bound).
    assert!(p2p_handle_count() <= before_handles + 20);
    let growth = rss_kib().saturating_sub(rss_after_warmup);
    assert!(growth < 8 * 1024, "RSS grew {growth} KiB over 900 cycles");
}
