//! Reading ZITADEL's event store: every event after a point in time, a page at a time.
//!
//! ZITADEL's event `sequence` counts per aggregate (the store's global order, `position`, is not in the API), so
//! pages follow the creation date. Events created at the same instant may straddle a page boundary: each page after
//! the first starts one microsecond before the last event read, and events already read are skipped by their
//! aggregate and sequence. A full page of events all read before (more than a page at one instant) cannot be paged
//! past: the read says so, and the caller falls back to reading everything.

use std::collections::HashSet;

use time::{Duration, OffsetDateTime};
use warden_zitadel::{Error as ClientError, EventQuery, ZitadelClient, ZitadelEvent};

/// Events per page (ZITADEL's maximum).
const PAGE: u32 = 1_000;

/// What reading the events after a point found.
#[derive(Debug)]
pub(crate) enum EventsRead {
    /// Every event after the point, oldest first.
    Complete(Vec<ZitadelEvent>),
    /// The events cannot be followed completely: why.
    Incomplete(String),
}

/// Every event of `aggregate_types` (empty: all) created after `from`, up to `max_events`.
pub(crate) async fn read_after(
    client: &ZitadelClient,
    from: OffsetDateTime,
    aggregate_types: &[&str],
    max_events: usize,
) -> Result<EventsRead, ClientError> {
    let mut events: Vec<ZitadelEvent> = Vec::new();
    let mut seen: HashSet<(String, String, u64)> = HashSet::new();
    let mut page_from = from;
    loop {
        let query = EventQuery {
            from: Some(page_from),
            newest_first: false,
            aggregate_types: aggregate_types.iter().map(|kind| (*kind).to_owned()).collect(),
            limit: PAGE,
        };
        let page = client.search_events(&query).await?;
        let full = page.len() >= PAGE as usize;
        let mut new = 0_usize;
        for event in page {
            match event.created_at {
                // Without its date an event cannot be placed: nothing after it can be trusted.
                None => return Ok(EventsRead::Incomplete(format!("event {} has no creation date", event.event_type))),
                Some(created) if created <= from => continue,
                Some(_) => {}
            }
            if seen.insert((event.aggregate_type.clone(), event.aggregate_id.clone(), event.sequence)) {
                events.push(event);
                new += 1;
            }
        }
        if events.len() > max_events {
            return Ok(EventsRead::Incomplete(format!("more than {max_events} events since the last position")));
        }
        if !full {
            return Ok(EventsRead::Complete(events));
        }
        match events.last().and_then(|event| event.created_at) {
            Some(last) if new > 0 => page_from = last - Duration::microseconds(1),
            _ => {
                return Ok(EventsRead::Incomplete(format!(
                    "more than {PAGE} events share one creation date; they cannot be paged"
                )));
            }
        }
    }
}

/// The creation date of the newest event of `aggregate_types`, or `None` when the store holds none.
pub(crate) async fn newest(
    client: &ZitadelClient,
    aggregate_types: &[&str],
) -> Result<Option<OffsetDateTime>, ClientError> {
    let query = EventQuery {
        from: None,
        newest_first: true,
        aggregate_types: aggregate_types.iter().map(|kind| (*kind).to_owned()).collect(),
        limit: 1,
    };
    Ok(client.search_events(&query).await?.into_iter().next().and_then(|event| event.created_at))
}
