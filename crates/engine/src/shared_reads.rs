//! Reads that callers arriving together share, without one of them being answered by a read that
//! began before it arrived.
//!
//! An API request's token is read from the database so that a revoked token is refused from its
//! next request in every process (docs/dashboard.md). In a flash sale thousands of requests a
//! second carry the same token, and each read is a round trip that queues behind the others. Here
//! the callers of one key that arrive while its read runs wait for the next read, which starts
//! when that one ends and answers all of them: a read per round trip instead of one per caller,
//! and every caller still answered by a read that began after it asked — so a token revoked before
//! a request arrived is refused, as before.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

type Waiting<K, V> = Arc<Mutex<HashMap<K, Vec<oneshot::Sender<V>>>>>;

pub(crate) struct SharedReads<K, V> {
    /// The keys being read, each with the callers that arrived since its current read began.
    flights: Waiting<K, V>,
}

impl<K, V> Default for SharedReads<K, V> {
    fn default() -> Self {
        SharedReads {
            flights: Arc::default(),
        }
    }
}

impl<K, V> SharedReads<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// `read(key)`'s answer, from a read that began after this call: the first caller of a key
    /// starts its reads in a task of their own (so a caller that goes never leaves the others
    /// unanswered); a caller arriving while one runs is answered by the next.
    pub(crate) async fn get<R, F>(&self, key: K, read: R) -> V
    where
        R: Fn(K) -> F + Clone + Send + 'static,
        F: Future<Output = V> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let first = {
            let mut flights = self.flights.lock().expect("shared reads lock");
            match flights.get_mut(&key) {
                Some(waiting) => {
                    waiting.push(answer);
                    false
                }
                None => {
                    flights.insert(key.clone(), vec![answer]);
                    true
                }
            }
        };
        if first {
            let flight = Flight {
                flights: self.flights.clone(),
                key: key.clone(),
                landed: false,
            };
            tokio::spawn(flight.fly(read.clone()));
        }
        match answered.await {
            Ok(value) => value,
            // The reads' task ended without answering (a read panicked, or the runtime is
            // shutting down): this caller reads by itself.
            Err(_) => read(key).await,
        }
    }
}

/// The reads of one key, while callers keep arriving.
struct Flight<K: Eq + Hash, V> {
    flights: Waiting<K, V>,
    key: K,
    /// Whether the key was taken out of the map at the end; if not (a read panicked), dropping
    /// the flight takes it out, and with it the waiting callers' senders, so that they read by
    /// themselves instead of waiting for ever.
    landed: bool,
}

impl<K: Eq + Hash + Clone, V: Clone> Flight<K, V> {
    async fn fly<R, F>(mut self, read: R)
    where
        R: Fn(K) -> F,
        F: Future<Output = V>,
    {
        loop {
            // Everyone waiting arrived before this read begins.
            let group = {
                let mut flights = self.flights.lock().expect("shared reads lock");
                let Some(waiting) = flights.get_mut(&self.key) else {
                    self.landed = true;
                    return;
                };
                if waiting.is_empty() {
                    flights.remove(&self.key);
                    self.landed = true;
                    return;
                }
                std::mem::take(waiting)
            };
            let value = read(self.key.clone()).await;
            for answer in group {
                // A caller that went (its client hung up) needs no answer.
                let _ = answer.send(value.clone());
            }
        }
    }
}

impl<K: Eq + Hash, V> Drop for Flight<K, V> {
    fn drop(&mut self) {
        if !self.landed
            && let Ok(mut flights) = self.flights.lock()
        {
            flights.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Waker};

    use tokio::sync::mpsc;

    use super::*;

    type Read = std::pin::Pin<Box<dyn Future<Output = &'static str> + Send>>;
    /// What a read asks the test: its number, and where to send its answer.
    type Asked = mpsc::UnboundedReceiver<(usize, oneshot::Sender<&'static str>)>;

    /// A read the test answers by hand: each read sends the test its number and a sender for its
    /// answer, and waits for it.
    fn gated() -> (
        impl Fn(&'static str) -> Read + Clone + Send + 'static,
        Asked,
    ) {
        let (asks, asked) = mpsc::unbounded_channel();
        let count = Arc::new(AtomicUsize::new(0));
        let read = move |_key: &'static str| {
            let (asks, n) = (asks.clone(), count.fetch_add(1, Ordering::SeqCst) + 1);
            Box::pin(async move {
                let (answer, answered) = oneshot::channel();
                asks.send((n, answer)).expect("the test listens");
                answered.await.expect("the test answers")
            }) as Read
        };
        (read, asked)
    }

    /// Polls `future` once: a call to `get` registers its caller before its first wait.
    fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[tokio::test]
    async fn a_caller_arriving_during_a_read_is_answered_by_the_next_read() {
        let reads = SharedReads::default();
        let (read, mut asked) = gated();
        let mut first = pin!(reads.get("token", read.clone()));
        assert!(poll_once(first.as_mut()).is_pending());
        let (n, answer) = asked.recv().await.expect("a read began");
        assert_eq!(n, 1);

        // Arrives while the first read runs (say, just after the token was revoked).
        let mut second = pin!(reads.get("token", read.clone()));
        let mut third = pin!(reads.get("token", read.clone()));
        assert!(poll_once(second.as_mut()).is_pending());
        assert!(poll_once(third.as_mut()).is_pending());
        answer.send("valid").expect("the flight waits");
        assert_eq!(first.await, "valid");
        assert!(
            poll_once(second.as_mut()).is_pending(),
            "answered by a read that began before it arrived"
        );

        // One more read for both late callers, begun after they arrived.
        let (n, answer) = asked.recv().await.expect("the next read began");
        assert_eq!(n, 2);
        answer.send("revoked").expect("the flight waits");
        assert_eq!(second.await, "revoked");
        assert_eq!(third.await, "revoked");
        assert!(reads.flights.lock().unwrap().is_empty(), "nothing kept");
        assert!(asked.try_recv().is_err(), "no third read");
    }

    #[tokio::test]
    async fn different_keys_do_not_wait_for_each_other() {
        let reads = SharedReads::default();
        let (read, mut asked) = gated();
        let mut one = pin!(reads.get("one", read.clone()));
        let mut two = pin!(reads.get("two", read.clone()));
        assert!(poll_once(one.as_mut()).is_pending());
        assert!(poll_once(two.as_mut()).is_pending());
        let mut answers = vec![
            asked.recv().await.expect("a read").1,
            asked.recv().await.expect("another read").1,
        ];
        // Both reads run at once; either may have started first.
        answers.pop().unwrap().send("x").unwrap();
        answers.pop().unwrap().send("x").unwrap();
        assert_eq!((one.await, two.await), ("x", "x"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_concurrent_callers_share_few_reads_and_all_are_answered() {
        let reads = Arc::new(SharedReads::default());
        let count = Arc::new(AtomicUsize::new(0));
        let read = {
            let count = count.clone();
            move |_key: u8| {
                let count = count.clone();
                async move {
                    count.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    7_u32
                }
            }
        };
        let callers: Vec<_> = (0..2_000)
            .map(|_| {
                let (reads, read) = (reads.clone(), read.clone());
                tokio::spawn(async move { reads.get(1, read).await })
            })
            .collect();
        for caller in callers {
            assert_eq!(caller.await.unwrap(), 7);
        }
        let n = count.load(Ordering::SeqCst);
        assert!((1..=2_000).contains(&n), "{n} reads");
        assert!(reads.flights.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn callers_waiting_on_a_read_that_panicked_read_by_themselves() {
        let reads = SharedReads::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let read = {
            let calls = calls.clone();
            move |_key: u8| {
                let first = calls.fetch_add(1, Ordering::SeqCst) == 0;
                async move {
                    assert!(!first, "the first read fails");
                    5_u32
                }
            }
        };
        assert_eq!(reads.get(1, read.clone()).await, 5);
        assert!(reads.flights.lock().unwrap().is_empty());
        assert_eq!(reads.get(1, read).await, 5, "the key is not stuck");
    }
}
