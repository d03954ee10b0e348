//! The tracing dashboard: an HTTP server on a loopback port, on its own thread (actix-web
//! runs its own workers), that gathers every rank's tracing figures over the overlay through
//! an ordinary client connection to its broker, and serves them as a page, as JSON under
//! `/api/` and as a stream of server-sent events. Nothing is gathered while nobody looks.

pub mod gather;
mod http;
pub mod model;
mod poller;

use std::net::SocketAddr;

/// Why the dashboard could not start.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("dashboard: invalid address '{0}' (expected IP:PORT, e.g. 127.0.0.1:0)")]
    Address(String),
    #[error("dashboard: {0} is not a loopback address; the dashboard listens on loopback only")]
    NotLoopback(SocketAddr),
    #[error("dashboard: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("dashboard: cannot start its thread: {0}")]
    Thread(std::io::Error),
}

/// Parse and check a listening address: loopback only.
pub fn parse_bind(bind: &str) -> Result<SocketAddr, DashboardError> {
    let addr: SocketAddr = bind
        .trim()
        .parse()
        .map_err(|_| DashboardError::Address(bind.to_string()))?;
    if !addr.ip().is_loopback() {
        return Err(DashboardError::NotLoopback(addr));
    }
    Ok(addr)
}

/// Serve the dashboard of the instance whose broker listens at `local_uri` on `bind`
/// (port 0 picks one); returns the address it listens on.
pub fn serve(bind: &str, local_uri: &str) -> Result<SocketAddr, DashboardError> {
    let addr = parse_bind(bind)?;
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|source| DashboardError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| DashboardError::Bind { addr, source })?;
    let uri = local_uri.to_string();
    std::thread::Builder::new()
        .name("dashboard".into())
        .spawn(move || {
            let system = actix_rt::System::new();
            let result = system.block_on(async move {
                let shared = std::sync::Arc::new(poller::Shared::default());
                actix_rt::spawn(poller::run(shared.clone(), uri));
                http::server(listener, shared)?.await
            });
            if let Err(e) = result {
                eprintln!("dashboard: {e}");
            }
        })
        .map_err(DashboardError::Thread)?;
    Ok(local)
}

/// The URL of a dashboard listening on `addr`.
pub fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only() {
        assert!(parse_bind("127.0.0.1:0").is_ok());
        assert!(parse_bind("[::1]:8080").is_ok());
        assert!(matches!(
            parse_bind("0.0.0.0:80"),
            Err(DashboardError::NotLoopback(_))
        ));
        assert!(matches!(
            parse_bind("localhost"),
            Err(DashboardError::Address(_))
        ));
    }
}
