//! A TCP proxy the harness controls: one per (member, ledger) pair, so a
//! member can be cut off from one ledger while every other connection
//! carries on. Cutting drops the connections it carries and refuses new
//! ones (accepted, then closed at once) until it is healed.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// A running proxy from a loopback port of its own to `upstream`.
#[derive(Debug)]
pub struct Proxy {
    pub listen: SocketAddr,
    /// `true` while cut; every carried connection watches it.
    cut: watch::Sender<bool>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr, stop: CancellationToken) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let listen = listener.local_addr()?;
        let (cut, watching) = watch::channel(false);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stop.cancelled() => return,
                    a = listener.accept() => a,
                };
                let Ok((client, _)) = accepted else { continue };
                if *watching.borrow() {
                    drop(client);
                    continue;
                }
                let mut cut = watching.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (mut client, mut server) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|c| *c) => {}
                    }
                });
            }
        });
        Ok(Proxy { listen, cut })
    }

    /// Drops every connection and refuses new ones until [`Proxy::heal`].
    pub fn cut(&self) {
        let _ = self.cut.send(true);
    }

    pub fn heal(&self) {
        let _ = self.cut.send(false);
    }
}
