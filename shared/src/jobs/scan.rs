//! What the jobs over every stored journey share (re-keying, the listing backfill): a scan
//! of the table by segments, `parallel` segments at a time, each read page after page.

use futures::stream::{self, StreamExt};

use crate::app::App;
use crate::records::keys;
use crate::store::{Item, Scan, StoreResult};

/// Items read per scan page.
const PAGE: usize = 500;

/// Runs `visit` on every journey item of the table with its segment's report; the reports
/// of the `segments` segments, in no particular order.
pub async fn each_journey<R: Default>(
    app: &App,
    segments: u32,
    parallel: usize,
    visit: impl AsyncFn(&Item, &mut R) -> StoreResult<()>,
) -> StoreResult<Vec<R>> {
    let total_segments = segments.max(1);
    let visit = &visit;
    let results: Vec<StoreResult<R>> = stream::iter(0..total_segments)
        .map(|segment| async move {
            let mut report = R::default();
            let mut cursor = None;
            loop {
                let page = app
                    .store
                    .scan(Scan {
                        segment,
                        total_segments,
                        limit: PAGE,
                        cursor,
                    })
                    .await?;
                for item in page.items.iter().filter(|i| keys::is_journey(&i.key)) {
                    visit(item, &mut report).await?;
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => return Ok(report),
                }
            }
        })
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}
