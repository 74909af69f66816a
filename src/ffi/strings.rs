//! Strings across the boundary: checked UTF-8 in, NUL-terminated copies out.

use super::error::{FfiError, FfiResult};
use std::ffi::{c_char, CStr, CString};

/// Longest string argument accepted (host names, peer ids, labels are far shorter; config JSON has
/// its own limit).
pub const MAX_STRING_BYTES: usize = 64 * 1024;

/// Borrows a C string argument as UTF-8.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
pub unsafe fn arg<'a>(ptr: *const c_char, name: &str) -> FfiResult<&'a str> {
    if ptr.is_null() {
        return Err(FfiError::arg(format!("{name} is NULL")));
    }
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    if bytes.len() > MAX_STRING_BYTES {
        return Err(FfiError::arg(format!("{name} is longer than {MAX_STRING_BYTES} bytes")));
    }
    std::str::from_utf8(bytes).map_err(|_| FfiError::arg(format!("{name} is not valid UTF-8")))
}

/// A C string for a callback; interior NULs (impossible in ids, possible in reasons) are dropped.
pub fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// Copies `s` and a NUL into `buffer` if it fits (truncating otherwise, still NUL-terminated).
/// Returns the size needed, NUL included.
///
/// # Safety
/// Every pointer argument is NULL or valid as described above: strings NUL-terminated, buffers at
/// least as long as the size passed with them.
pub unsafe fn copy_out(s: &str, buffer: *mut c_char, size: i32) -> i32 {
    let needed = s.len() + 1;
    if !buffer.is_null() && size > 0 {
        let n = (size as usize - 1).min(s.len());
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr() as *const c_char, buffer, n);
            *buffer.add(n) = 0;
        }
    }
    needed.min(i32::MAX as usize) as i32
}
