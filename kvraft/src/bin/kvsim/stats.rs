//! Latency percentiles.

use serde::Serialize;

/// Percentiles of a set of latencies, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    /// How many latencies were measured.
    pub count: usize,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Largest.
    pub max_us: f64,
}

impl Latency {
    /// The percentiles of `nanos` (sorted here); all zero when empty.
    pub fn of(mut nanos: Vec<u64>) -> Latency {
        if nanos.is_empty() {
            return Latency::default();
        }
        nanos.sort_unstable();
        let micros = |p: f64| nearest_rank(&nanos, p) as f64 / 1_000.0;
        Latency {
            count: nanos.len(),
            p50_us: micros(0.50),
            p90_us: micros(0.90),
            p99_us: micros(0.99),
            max_us: micros(1.0),
        }
    }

    /// `p50 1.2 ms  p90 ...`, each in a readable unit.
    pub fn describe(&self) -> String {
        format!(
            "p50 {}  p90 {}  p99 {}  max {}",
            human_us(self.p50_us),
            human_us(self.p90_us),
            human_us(self.p99_us),
            human_us(self.max_us)
        )
    }
}

/// The nearest-rank percentile `p` (0 < p <= 1) of sorted, non-empty `sorted`.
fn nearest_rank(sorted: &[u64], p: f64) -> u64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Microseconds as `850 us`, `12.3 ms` or `2.40 s`.
pub fn human_us(micros: f64) -> String {
    if micros < 1_000.0 {
        format!("{micros:.0} us")
    } else if micros < 1_000_000.0 {
        format!("{:.1} ms", micros / 1_000.0)
    } else {
        format!("{:.2} s", micros / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest-rank percentiles of 1..=100 are the obvious values.
    #[test]
    fn percentiles_of_one_to_hundred() {
        let latency = Latency::of((1..=100).rev().map(|us| us * 1_000).collect());
        assert_eq!(latency.count, 100);
        assert_eq!(latency.p50_us, 50.0);
        assert_eq!(latency.p90_us, 90.0);
        assert_eq!(latency.p99_us, 99.0);
        assert_eq!(latency.max_us, 100.0);
    }

    /// One sample is every percentile; none gives zeros, not a panic.
    #[test]
    fn tiny_sets() {
        assert_eq!(Latency::of(vec![7_000]).p50_us, 7.0);
        assert_eq!(Latency::of(vec![7_000]).p99_us, 7.0);
        assert_eq!(Latency::of(Vec::new()), Latency::default());
    }

    /// Units switch at a millisecond and a second.
    #[test]
    fn human_units() {
        assert_eq!(human_us(850.0), "850 us");
        assert_eq!(human_us(12_340.0), "12.3 ms");
        assert_eq!(human_us(2_400_000.0), "2.40 s");
    }
}
