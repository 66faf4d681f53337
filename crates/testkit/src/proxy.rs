//! A TCP proxy between a terminal and Postgres that the test controls: forward, stall (the
//! network goes silent without closing anything — a pulled cable), or drop (every connection
//! closes and new ones are refused — the server or the link is gone).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Forward,
    Stall,
    Drop,
    /// Forward until a client sends `COMMIT`, then drop instead of passing it on: the server
    /// rolls the transaction back when the connection goes.
    CutBeforeCommit,
    /// Forward until a client sends `COMMIT`; pass it on, let the server commit, and drop before
    /// its reply reaches the client: committed, and the client never hears so.
    CutAfterCommit,
}

/// How sqlx ends a transaction on the wire: a simple-query message `COMMIT`.
const COMMIT: &[u8] = b"Q\0\0\0\x0bCOMMIT\0";

pub struct Proxy {
    pub addr: SocketAddr,
    link: Arc<Mutex<Link>>,
    /// Commits a cut lets through before it cuts one.
    passing: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free local port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let link = Arc::new(Mutex::new(Link::Forward));
        let passing = Arc::new(AtomicUsize::new(0));
        let state = link.clone();
        let pass = passing.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if *state.lock().unwrap() == Link::Drop {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, state.clone(), Some(pass.clone())));
                tokio::spawn(pipe(sr, cw, state.clone(), None));
            }
        });
        Proxy {
            addr,
            link,
            passing,
            task,
        }
    }

    pub fn set(&self, link: Link) {
        *self.link.lock().unwrap() = link;
    }

    /// A cut (`CutBeforeCommit`, `CutAfterCommit`) of the commit after the next `pass` ones.
    pub fn cut(&self, cut: Link, pass: usize) {
        self.passing.store(pass, Ordering::SeqCst);
        self.set(cut);
    }

    /// What the link does now (a cut turns into `Drop` once it happened).
    pub fn state(&self) -> Link {
        *self.link.lock().unwrap()
    }

    /// `url` (a Postgres URL) with its host and port replaced by the proxy's.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (auth_host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let user = auth_host
            .rsplit_once('@')
            .map(|(u, _)| format!("{u}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}/{path}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies one direction; holds the bytes while the link stalls, ends when it drops, and cuts a
/// commit in two when told to (`passing` is given for the client's direction: commits a cut
/// lets through first).
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Arc<Mutex<Link>>,
    passing: Option<Arc<AtomicUsize>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = until_dropped(&link) => return,
        };
        let mut commits = passing.is_some() && buf[..n].windows(COMMIT.len()).any(|w| w == COMMIT);
        let cutting = matches!(
            *link.lock().unwrap(),
            Link::CutBeforeCommit | Link::CutAfterCommit
        );
        if commits && cutting {
            let passing = passing.as_ref().expect("client side");
            if passing
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                commits = false;
            }
        }
        loop {
            let state = *link.lock().unwrap();
            match state {
                Link::Forward => break,
                Link::CutBeforeCommit | Link::CutAfterCommit if !commits => break,
                Link::CutBeforeCommit => {
                    *link.lock().unwrap() = Link::Drop;
                    return;
                }
                Link::CutAfterCommit => {
                    // The reply must not get through: hold the server's side, send the commit,
                    // give the server time to make it durable, then cut.
                    *link.lock().unwrap() = Link::Stall;
                    let _ = to.write_all(&buf[..n]).await;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    *link.lock().unwrap() = Link::Drop;
                    return;
                }
                Link::Drop => return,
                Link::Stall => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

async fn until_dropped(link: &Arc<Mutex<Link>>) {
    while *link.lock().unwrap() != Link::Drop {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The host and port of a Postgres URL, resolved.
pub fn upstream_of(url: &str) -> SocketAddr {
    use std::net::ToSocketAddrs;
    let rest = url.split_once("://").unwrap().1;
    let host_port = rest.split('/').next().unwrap();
    let host_port = host_port.rsplit_once('@').map_or(host_port, |(_, h)| h);
    let host_port = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    host_port.to_socket_addrs().unwrap().next().unwrap()
}
