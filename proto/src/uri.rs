//! Instance URIs.

use std::path::{Path, PathBuf};

use crate::Error;

/// A `local://PATH` URI: the Unix socket of a broker's local connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUri(PathBuf);

impl LocalUri {
    /// The URI of the socket at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalUri(path.into())
    }

    /// Parse `local:///abs/path`.
    pub fn parse(uri: &str) -> Result<Self, Error> {
        match uri.strip_prefix("local://") {
            Some(path) if path.starts_with('/') => Ok(LocalUri(PathBuf::from(path))),
            _ => Err(Error::Uri(uri.to_string())),
        }
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::fmt::Display for LocalUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "local://{}", self.0.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_local_uris() {
        let uri = LocalUri::parse("local:///tmp/flux-abc/local-0").unwrap();
        assert_eq!(uri.path(), Path::new("/tmp/flux-abc/local-0"));
        assert_eq!(uri.to_string(), "local:///tmp/flux-abc/local-0");
    }

    #[test]
    fn rejects_other_schemes_and_relative_paths() {
        assert!(LocalUri::parse("ssh://host/tmp/x").is_err());
        assert!(LocalUri::parse("local://relative").is_err());
        assert!(LocalUri::parse("/tmp/x").is_err());
    }
}
