//! The schedule, statistically: 10,000 checkers started together spread
//! their first checks over the warmup and their next checks over the
//! jitter window, with no millisecond crowded, and never beyond the bounds.
//! The bounds are about five standard deviations wide: a uniform draw
//! passes them, a clustered or skewed one does not.

use std::time::Duration;

use ipvsd::check::{KindDefaults, Timing};
use tokio::time::Instant;

const N: usize = 10_000;

/// Counts per bucket of `width` from `origin`, over `buckets` buckets;
/// panics on a time outside them.
fn histogram(times: &[Instant], origin: Instant, width: Duration, buckets: usize) -> Vec<usize> {
    let mut h = vec![0; buckets];
    for t in times {
        let offset = t.duration_since(origin);
        let i = (offset.as_nanos() / width.as_nanos()) as usize;
        // The far end of the range is inclusive.
        h[i.min(buckets - 1)] += 1;
    }
    h
}

#[test]
fn warmup_spreads_first_checks_uniformly_within_the_warmup() {
    let warmup = Duration::from_secs(1);
    let timing = Timing {
        warmup,
        ..Timing::keepalived(KindDefaults::Plain, Duration::from_secs(5))
    };
    let mut rng = fastrand::Rng::with_seed(42);
    let start = Instant::now();
    let firsts: Vec<Instant> = (0..N)
        .map(|_| timing.first_check(start, &mut rng))
        .collect();
    assert!(firsts.iter().all(|&t| t >= start && t <= start + warmup));

    // Ten 100 ms buckets of 1,000 expected each (sd about 30).
    let tenths = histogram(&firsts, start, Duration::from_millis(100), 10);
    for (i, &n) in tenths.iter().enumerate() {
        assert!((850..=1150).contains(&n), "bucket {i}: {n} ({tenths:?})");
    }
    // 10 a millisecond on average: none crowded.
    let ms = histogram(&firsts, start, Duration::from_millis(1), 1000);
    let busiest = ms.iter().max().copied().unwrap_or(0);
    assert!(busiest <= 40, "{busiest} checks in one millisecond");
    assert!(ms.iter().filter(|&&n| n > 0).count() >= 990);
}

#[test]
fn warmup_zero_checks_at_once() {
    let timing = Timing {
        warmup: Duration::ZERO,
        ..Timing::keepalived(KindDefaults::Plain, Duration::from_secs(5))
    };
    let mut rng = fastrand::Rng::with_seed(1);
    let start = Instant::now();
    assert!((0..100).all(|_| timing.first_check(start, &mut rng) == start));
}

#[test]
fn jitter_spreads_next_checks_and_never_delays_past_the_delay_loop() {
    let delay_loop = Duration::from_secs(1);
    let timing = Timing {
        jitter: 0.1,
        ..Timing::keepalived(KindDefaults::Plain, delay_loop)
    };
    let mut rng = fastrand::Rng::with_seed(7);
    let start = Instant::now();
    let nexts: Vec<Instant> = (0..N)
        .map(|_| timing.next_check(start, start, &mut rng))
        .collect();
    let earliest = start + Duration::from_millis(900);
    assert!(
        nexts
            .iter()
            .all(|&t| t >= earliest && t <= start + delay_loop)
    );
    // Ten 10 ms buckets over the 100 ms jitter window.
    let h = histogram(&nexts, earliest, Duration::from_millis(10), 10);
    for (i, &n) in h.iter().enumerate() {
        assert!((850..=1150).contains(&n), "bucket {i}: {n} ({h:?})");
    }
}

#[test]
fn no_jitter_keeps_the_exact_delay_loop() {
    let delay_loop = Duration::from_millis(250);
    let timing = Timing {
        jitter: 0.0,
        ..Timing::keepalived(KindDefaults::Plain, delay_loop)
    };
    let mut rng = fastrand::Rng::with_seed(7);
    let start = Instant::now();
    assert!((0..100).all(|_| timing.next_check(start, start, &mut rng) == start + delay_loop));
}

#[test]
fn the_same_seed_gives_the_same_schedule() {
    let timing = Timing::native(KindDefaults::Http, Duration::from_secs(10));
    let start = Instant::now();
    let draw = |seed| {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..100)
            .map(|_| timing.first_check(start, &mut rng))
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(5), draw(5));
    assert_ne!(draw(5), draw(6));
}
