//! The listener of other processes' invalidations. It forwards them to this process's
//! in-memory layers and proves its subscription alive with a `PING` every second; a
//! subscription that closes or does not answer is rebuilt. While it is not subscribed the
//! cache is not trusted, and on each change every in-process copy is dropped
//! ([`EVERYTHING`]): what was published meanwhile was not heard.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::Notify;

use super::keys::{EVERYTHING, INVALIDATION_CHANNEL};
use super::link::{CacheError, Shared, PROBE_FIRST};

/// How often the listener proves its subscription alive, and how long it waits for it
/// (and for a subscription to be made).
const LISTENER_PING_EVERY: Duration = Duration::from_secs(1);
const LISTENER_TIMEOUT: Duration = Duration::from_secs(1);
const LISTENER_RETRY_MAX: Duration = Duration::from_secs(1);

/// Forwards other processes' invalidations to this process's layers, proving its
/// subscription alive with a `PING` every second (and whenever the supervisor asks), and
/// rebuilding it when it is not.
pub(super) fn spawn_listener(shared: &Arc<Shared>) {
    let weak: Weak<Shared> = Arc::downgrade(shared);
    let client = shared.client().clone();
    let channel = shared.key(INVALIDATION_CHANNEL);
    let ping_now = shared.ping_requests();
    tokio::spawn(async move {
        let mut delay = PROBE_FIRST;
        let mut was_subscribed = false;
        loop {
            match subscribe(&client, &channel).await {
                Ok((mut sink, mut stream)) => {
                    let Some(shared) = weak.upgrade() else {
                        return;
                    };
                    if was_subscribed {
                        // What was published while this process was not listening is
                        // lost: every copy goes.
                        shared.broadcast(vec![EVERYTHING.to_owned()]);
                    }
                    was_subscribed = true;
                    delay = PROBE_FIRST;
                    shared.heard();
                    drop(shared);
                    let why = listen(&weak, &ping_now, &mut sink, &mut stream).await;
                    let Some(shared) = weak.upgrade() else {
                        return;
                    };
                    // Copies kept from now on would not hear their invalidations.
                    shared.deaf(why);
                }
                Err(error) => {
                    tracing::debug!(%error, "the invalidation listener cannot subscribe");
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(LISTENER_RETRY_MAX);
        }
    });
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
) -> Result<(PubSubSink, PubSubStream), CacheError> {
    let subscribing = async {
        let (mut sink, stream) = client.get_async_pubsub().await?.split();
        sink.subscribe(channel).await?;
        Ok::<_, redis::RedisError>((sink, stream))
    };
    match tokio::time::timeout(LISTENER_TIMEOUT, subscribing).await {
        Ok(result) => result.map_err(CacheError::from),
        Err(_) => Err(CacheError::Timeout(LISTENER_TIMEOUT)),
    }
}

/// Forwards messages until the subscription closes or stops answering; says which.
async fn listen(
    cache: &Weak<Shared>,
    ping_now: &Notify,
    sink: &mut PubSubSink,
    stream: &mut PubSubStream,
) -> &'static str {
    let mut every = tokio::time::interval(LISTENER_PING_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else {
                    return "the subscription's connection closed";
                };
                let Some(shared) = cache.upgrade() else {
                    return "the cache is gone";
                };
                let keys = message
                    .get_payload::<String>()
                    .ok()
                    .and_then(|p| serde_json::from_str::<Vec<String>>(&p).ok());
                if let Some(keys) = keys {
                    shared.broadcast(keys);
                }
                continue;
            }
            _ = every.tick() => {}
            _ = ping_now.notified() => {}
        }
        let answered = tokio::time::timeout(LISTENER_TIMEOUT, sink.ping::<redis::Value>()).await;
        if !matches!(answered, Ok(Ok(_))) {
            return "the subscription's connection does not answer";
        }
        let Some(shared) = cache.upgrade() else {
            return "the cache is gone";
        };
        shared.heard();
    }
}
