//! POSIX errno values as they travel on the wire, and their human descriptions.

pub const EPERM: i32 = 1;
pub const ENOENT: i32 = 2;
pub const ESRCH: i32 = 3;
pub const EIO: i32 = 5;
pub const ECHILD: i32 = 10;
pub const E2BIG: i32 = 7;
pub const EAGAIN: i32 = 11;
pub const ENOMEM: i32 = 12;
pub const EACCES: i32 = 13;
pub const EBUSY: i32 = 16;
pub const EEXIST: i32 = 17;
pub const ENOTDIR: i32 = 20;
pub const EISDIR: i32 = 21;
pub const EINVAL: i32 = 22;
pub const EFBIG: i32 = 27;
pub const ENOSPC: i32 = 28;
pub const ENOSYS: i32 = 38;
pub const ENODATA: i32 = 61;
pub const ETIME: i32 = 62;
pub const EPROTO: i32 = 71;
pub const EOVERFLOW: i32 = 75;
pub const EMSGSIZE: i32 = 90;
pub const EOPNOTSUPP: i32 = 95;
pub const ECONNRESET: i32 = 104;
pub const ETIMEDOUT: i32 = 110;
pub const EHOSTUNREACH: i32 = 113;
pub const EALREADY: i32 = 114;
pub const ECANCELED: i32 = 125;

/// The C library's description of `errnum` ("No such file or directory"), without Rust's
/// "(os error N)" suffix.
pub fn strerror(errnum: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errnum).to_string();
    match text.rfind(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_drops_the_rust_suffix() {
        assert_eq!(strerror(ENOENT), "No such file or directory");
        assert_eq!(strerror(ENOSYS), "Function not implemented");
    }
}
