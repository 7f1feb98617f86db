//! Group commit: concurrent requests handed to one transaction, each still answered on
//! its own. A request queues its work and waits for either its answer or a free slot;
//! whoever gets a slot takes the oldest queued work (up to the batch size, skipping
//! work that must not share a transaction with work already taken) and runs it as one
//! batch. No timer: a lone request is its own batch at once, and batches grow only
//! while the slots are busy, that is while waiting would happen anyway.
//!
//! A batch runs on a task of its own, so a request that goes away (a till that hangs
//! up) does not cancel the work of the others that share its batch.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// Work that can share a batch with other work unless they name a common key.
pub trait Batched: Send + 'static {
    type Outcome: Send + 'static;
    /// What no two items of one batch may have in common (an idempotency key, a
    /// token, a holder's use of an offer): the later one waits for the next batch.
    fn exclusive(&self) -> Vec<String>;
}

struct Waiting<T: Batched> {
    item: T,
    answer: oneshot::Sender<T::Outcome>,
}

/// The queue and its slots. One per process and kind of work.
pub struct GroupCommit<T: Batched> {
    queue: Mutex<VecDeque<Waiting<T>>>,
    slots: Arc<Semaphore>,
    max_batch: usize,
}

/// A batch's slot: held while the batch uses the database, free again when dropped
/// (a batch that has committed gives it back before its after-work, such as telling
/// the cache, so the next batch can start meanwhile).
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// The batch that was to answer this request ended without answering (it panicked, or
/// the runtime is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the batch carrying this request ended without an answer")]
pub struct Unanswered;

impl<T: Batched> GroupCommit<T> {
    /// At most `slots` batches at once, each of at most `max_batch` items.
    pub fn new(slots: usize, max_batch: usize) -> GroupCommit<T> {
        GroupCommit {
            queue: Mutex::new(VecDeque::new()),
            slots: Arc::new(Semaphore::new(slots.max(1))),
            max_batch: max_batch.max(1),
        }
    }

    /// Queues `item` and returns its outcome once a batch carrying it has run. `run`
    /// gets the items of a batch and its slot, and returns one outcome per item, in
    /// order; the slot is free when `run` drops it, at the latest when it returns.
    pub async fn submit<F, Fut>(&self, item: T, run: F) -> Result<T::Outcome, Unanswered>
    where
        F: Fn(Vec<T>, Slot) -> Fut,
        Fut: Future<Output = Vec<T::Outcome>> + Send + 'static,
    {
        let (answer, mut rx) = oneshot::channel();
        self.lock().push_back(Waiting { item, answer });
        loop {
            tokio::select! {
                biased;
                outcome = &mut rx => return outcome.map_err(|_| Unanswered),
                permit = self.slots.clone().acquire_owned() => {
                    let permit = permit.map_err(|_| Unanswered)?;
                    let batch = self.take();
                    if batch.is_empty() {
                        // Another batch took this request's item (the queue holds no
                        // one else's either): its answer is coming.
                        drop(permit);
                        return rx.await.map_err(|_| Unanswered);
                    }
                    spawn_batch(batch, permit, &run);
                }
            }
        }
    }

    /// The oldest queued items that may share a batch, at most `max_batch`.
    fn take(&self) -> Vec<Waiting<T>> {
        let mut queue = self.lock();
        let mut taken = Vec::new();
        let mut seen = HashSet::new();
        let mut index = 0;
        while index < queue.len() && taken.len() < self.max_batch {
            let keys = queue[index].item.exclusive();
            if keys.iter().any(|k| seen.contains(k)) {
                index += 1;
                continue;
            }
            seen.extend(keys);
            if let Some(waiting) = queue.remove(index) {
                taken.push(waiting);
            }
        }
        taken
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Waiting<T>>> {
        // The queue is only pushed to and drained under the lock; a panic elsewhere
        // leaves it consistent.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn spawn_batch<T, F, Fut>(batch: Vec<Waiting<T>>, permit: OwnedSemaphorePermit, run: &F)
where
    T: Batched,
    F: Fn(Vec<T>, Slot) -> Fut,
    Fut: Future<Output = Vec<T::Outcome>> + Send + 'static,
{
    let (items, answers): (Vec<T>, Vec<_>) = batch.into_iter().map(|w| (w.item, w.answer)).unzip();
    // The work owns the slot: it is free before the answers go out, so the next batch
    // can start while these requests finish.
    let work = run(items, Slot { _permit: permit });
    tokio::spawn(async move {
        let outcomes = work.await;
        for (answer, outcome) in answers.into_iter().zip(outcomes) {
            // A request that went away no longer listens.
            let _ = answer.send(outcome);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    struct Work {
        n: usize,
        key: String,
    }

    impl Batched for Work {
        type Outcome = (usize, usize);
        fn exclusive(&self) -> Vec<String> {
            vec![self.key.clone()]
        }
    }

    type Running = std::pin::Pin<Box<dyn Future<Output = Vec<(usize, usize)>> + Send>>;

    /// Each outcome is (the item's number, the size of the batch that carried it).
    fn runner(
        batches: Arc<AtomicUsize>,
        in_flight: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
    ) -> impl Fn(Vec<Work>, Slot) -> Running {
        move |items: Vec<Work>, slot: Slot| {
            let (batches, in_flight, most) = (batches.clone(), in_flight.clone(), most.clone());
            Box::pin(async move {
                batches.fetch_add(1, Ordering::SeqCst);
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                drop(slot);
                let size = items.len();
                items.iter().map(|w| (w.n, size)).collect()
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn every_item_is_answered_once_in_few_batches_within_the_slots() {
        let commit = Arc::new(GroupCommit::<Work>::new(2, 8));
        let (batches, in_flight, most) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let mut tasks = Vec::new();
        for n in 0..64 {
            let commit = commit.clone();
            let run = runner(batches.clone(), in_flight.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                commit
                    .submit(
                        Work {
                            n,
                            key: format!("k{n}"),
                        },
                        run,
                    )
                    .await
                    .unwrap()
            }));
        }
        let mut seen = Vec::new();
        for task in tasks {
            let (n, size) = task.await.unwrap();
            assert!((1..=8).contains(&size), "batch of {size}");
            seen.push(n);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..64).collect::<Vec<_>>());
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "more batches at once than slots"
        );
        // 64 items in batches of at most 8 with two slots: far fewer than 64 batches.
        let count = batches.load(Ordering::SeqCst);
        assert!((8..64).contains(&count), "{count} batches");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn items_with_a_common_key_never_share_a_batch() {
        let commit = Arc::new(GroupCommit::<Work>::new(1, 16));
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let run = {
            let sizes = sizes.clone();
            move |items: Vec<Work>, slot: Slot| {
                let sizes = sizes.clone();
                async move {
                    let _slot = slot;
                    let keys: HashSet<_> = items.iter().map(|w| w.key.clone()).collect();
                    assert_eq!(keys.len(), items.len(), "two items with one key in a batch");
                    sizes.lock().unwrap().push(items.len());
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    items.iter().map(|w| (w.n, items.len())).collect()
                }
            }
        };
        let mut tasks = Vec::new();
        for n in 0..40 {
            let commit = commit.clone();
            let run = run.clone();
            // Four keys among forty items.
            let key = format!("k{}", n % 4);
            tasks.push(tokio::spawn(async move {
                commit.submit(Work { n, key }, run).await.unwrap()
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let sizes = sizes.lock().unwrap();
        assert_eq!(sizes.iter().sum::<usize>(), 40);
        assert!(sizes.iter().all(|&s| s <= 4));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slot_given_back_lets_the_next_batch_start_before_the_first_ends() {
        // One slot, one item per batch: the second batch can only start early if the
        // first gives its slot back before its after-work.
        let commit = Arc::new(GroupCommit::<Work>::new(1, 1));
        let first_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let run = {
            let first_done = first_done.clone();
            move |items: Vec<Work>, slot: Slot| {
                let first_done = first_done.clone();
                async move {
                    let n = items[0].n;
                    drop(slot);
                    let saw_first_done = first_done.load(Ordering::SeqCst);
                    if n == 0 {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        first_done.store(true, Ordering::SeqCst);
                    }
                    vec![(n, usize::from(saw_first_done))]
                }
            }
        };
        let first = tokio::spawn({
            let (commit, run) = (commit.clone(), run.clone());
            async move {
                commit
                    .submit(
                        Work {
                            n: 0,
                            key: "a".into(),
                        },
                        run,
                    )
                    .await
                    .unwrap()
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = commit
            .submit(
                Work {
                    n: 1,
                    key: "b".into(),
                },
                run,
            )
            .await
            .unwrap();
        assert_eq!(
            second,
            (1, 0),
            "the second batch waited for the first to end"
        );
        assert!(
            !first_done.load(Ordering::SeqCst),
            "answered before the first ended"
        );
        assert_eq!(first.await.unwrap(), (0, 0));
    }

    #[tokio::test]
    async fn a_lone_item_is_its_own_batch_at_once() {
        let commit = GroupCommit::<Work>::new(4, 32);
        let run = |items: Vec<Work>, _slot: Slot| async move {
            let size = items.len();
            items.iter().map(|w| (w.n, size)).collect::<Vec<_>>()
        };
        let outcome = commit
            .submit(
                Work {
                    n: 7,
                    key: "a".into(),
                },
                run,
            )
            .await
            .unwrap();
        assert_eq!(outcome, (7, 1));
    }
}
