//! Connections: accepted up to a cap, each served over HTTP/1.1 with a
//! deadline for its request headers (`--read-timeout`, which also closes a
//! keep-alive connection left idle), and closed on shutdown: idle ones at
//! once, busy ones when their response is done or the grace period ends.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Connections open at once; past them new ones are closed at once.
pub(crate) const MAX_CONNECTIONS: usize = 512;

/// Serves `app` on `listener` until `shutdown` is cancelled; then stops
/// accepting, lets connections finish until `hard_stop`, and returns once
/// every connection is closed.
pub(super) async fn run(
    listener: TcpListener,
    app: Router,
    read_timeout: Duration,
    shutdown: CancellationToken,
    hard_stop: CancellationToken,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let (stream, _) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of descriptors, or a connection reset before it was
                // taken: the listener goes on.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Full: closed before anything is read.
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(read_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(connection);
        let hard_stop = hard_stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = watched => {}
                // Past the grace period a connection still open is dropped,
                // once a cancelled council has had a moment to answer.
                () = past(&hard_stop) => {}
            }
            drop(slot);
        });
    }
    drop(listener);
    // Idle connections close now; busy ones after their response, or at
    // the end of the grace period.
    tokio::select! {
        () = graceful.shutdown() => {}
        () = past(&hard_stop) => {}
    }
    Ok(())
}

/// How long a council cancelled at the end of the grace period has to send
/// its answer (the error) before its connection is dropped.
const LAST_WORD: Duration = Duration::from_millis(500);

async fn past(hard_stop: &CancellationToken) {
    hard_stop.cancelled().await;
    tokio::time::sleep(LAST_WORD).await;
}
