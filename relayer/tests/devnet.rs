//! `portrelay devnet` in-process: every path and app, read back from the ledgers.

use std::time::Duration;

use relayer::devnet::{run, DevnetOptions};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_and_app_exactly_once_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = DevnetOptions {
        data_dir: Some(dir.path().to_path_buf()),
        packets: Some(72),
        block_time: Duration::from_millis(100),
        validators: 4,
        batch_max: 50,
    };
    let (summary, ledgers) = run(opts, CancellationToken::new())
        .await
        .expect("devnet run");
    // From the ledgers, not the relayer's counters.
    assert_eq!(ledgers.channels, 18, "six directed paths, three apps");
    assert!(ledgers.mismatches.is_empty(), "{:?}", ledgers.mismatches);
    assert_eq!(
        (ledgers.sent, ledgers.received, ledgers.acked),
        (72, 72, 72)
    );
    // Each path and app carried traffic, all accepted by the apps.
    assert_eq!(summary.paths.len(), 18);
    assert!(
        summary
            .paths
            .values()
            .all(|p| p.delivered == 4 && p.ok == 4 && p.acked == 4),
        "{:?}",
        summary.paths
    );
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
}
