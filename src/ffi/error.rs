//! Error codes and the per-thread last error; `guard` wraps every export.

use super::types::*;
use crate::error::P2pError;
use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// An error at the boundary: a code plus a message for `p2p_get_last_error`.
#[derive(Debug)]
pub struct FfiError {
    pub code: i32,
    pub message: String,
}

impl FfiError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        FfiError { code, message: message.into() }
    }
    pub fn arg(message: impl Into<String>) -> Self {
        FfiError::new(P2P_ERR_INVALID_ARGUMENT, message)
    }
}

/// The `P2P_ERR_*` of a core error.
pub fn code_of(e: &P2pError) -> i32 {
    match e {
        P2pError::InvalidConfig(_) => P2P_ERR_INVALID_CONFIG,
        P2pError::InvalidArgument(_) => P2P_ERR_INVALID_ARGUMENT,
        P2pError::ConnectFailed(_) => P2P_ERR_CONNECT_FAILED,
        P2pError::HostExists(_) => P2P_ERR_HOST_EXISTS,
        P2pError::Rejected { .. } => P2P_ERR_REJECTED,
        P2pError::StartFailed(_) => P2P_ERR_START_FAILED,
        P2pError::InvalidState(_) => P2P_ERR_INVALID_STATE,
        P2pError::Rtc(_) => P2P_ERR_RTC,
        P2pError::Timeout(_) => P2P_ERR_TIMEOUT,
        P2pError::Closed(_) => P2P_ERR_CLOSED,
    }
}

impl From<P2pError> for FfiError {
    fn from(e: P2pError) -> Self {
        FfiError { code: code_of(&e), message: e.to_string() }
    }
}

pub type FfiResult<T> = Result<T, FfiError>;

pub fn set_last_error(message: &str) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.push_str(message);
    });
}

/// Runs an export body: panics become `P2P_ERR_PANIC`, errors become their code, and the message of
/// either is kept as this thread's last error.
pub fn guard(body: impl FnOnce() -> FfiResult<i32>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.code
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("internal error (panic): {what}"));
            P2P_ERR_PANIC
        }
    }
}

/// Copies this thread's last error message into `buffer` (NUL-terminated, truncated to fit).
/// Returns the size the whole message needs, NUL included; it was copied whole iff that is <= `size`.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
#[no_mangle]
pub unsafe extern "C" fn p2p_get_last_error(buffer: *mut c_char, size: i32) -> i32 {
    guard(|| {
        let message = LAST_ERROR.with(|e| e.borrow().clone());
        Ok(unsafe { super::strings::copy_out(&message, buffer, size) })
    })
}
