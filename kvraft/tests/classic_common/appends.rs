//! Go's `checkClntAppends` / `checkConcurrentAppends`: every append of a
//! client is in the value exactly once and in the order it was made.

/// Go's `NextValue(prev, val)`.
pub fn next_value(prev: &str, value: &str) -> String {
    format!("{prev}{value}")
}

/// The `j`-th element client `clnt` appends: `x <clnt> <j> y`.
pub fn element(clnt: usize, j: usize) -> String {
    format!("x {clnt} {j} y")
}

/// First and last byte offset of every element `x <clnt> <j> y` with
/// `j < count` in `value`, found in one pass.
///
/// Go searches the whole value for each element (quadratic; values here reach
/// ~100 KB with ~10,000 elements). Every occurrence of an element starts with
/// `x <clnt> ` (which cannot overlap itself), followed by `j` in canonical
/// decimal and ` y`; at a given start at most one `j` fits. So one scan over
/// the starts finds exactly the occurrences Go's searches find.
fn occurrences(clnt: usize, value: &str, count: usize) -> Vec<Option<(usize, usize)>> {
    let prefix = format!("x {clnt} ");
    let mut found: Vec<Option<(usize, usize)>> = vec![None; count];
    for (start, _) in value.match_indices(&prefix) {
        let rest = &value.as_bytes()[start + prefix.len()..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let canonical = digits == 1 || (digits > 1 && rest[0] != b'0');
        if digits == 0 || !canonical || !rest[digits..].starts_with(b" y") {
            continue;
        }
        let Some(j) = std::str::from_utf8(&rest[..digits])
            .ok()
            .and_then(|d| d.parse::<usize>().ok())
        else {
            continue;
        };
        if j < count {
            let slot = &mut found[j];
            *slot = Some(slot.map_or((start, start), |(first, _)| (first, start)));
        }
    }
    found
}

/// Checks that `value` holds client `clnt`'s elements 0..count once each, in order.
#[track_caller]
pub fn check_clnt_appends(clnt: usize, value: &str, count: usize) {
    if let Err(message) = appends_verdict(clnt, value, count) {
        panic!("{message}");
    }
}

/// [`check_clnt_appends`]'s verdict, with Go's failure messages.
fn appends_verdict(clnt: usize, value: &str, count: usize) -> Result<(), String> {
    let found = occurrences(clnt, value, count);
    let mut last_offset: Option<usize> = None;
    for (j, occurrence) in found.into_iter().enumerate() {
        let wanted = element(clnt, j);
        let Some((offset, last)) = occurrence else {
            return Err(format!(
                "{clnt} missing element {wanted} in Append result {value}"
            ));
        };
        if last != offset {
            return Err(format!("duplicate element {wanted} in Append result"));
        }
        if last_offset.is_some_and(|previous| offset <= previous) {
            return Err(format!("wrong order for element {wanted} in Append result"));
        }
        last_offset = Some(offset);
    }
    Ok(())
}

/// [`check_clnt_appends`] for every client `i`, with `counts[i]` elements.
#[track_caller]
pub fn check_concurrent_appends(value: &str, counts: &[usize]) {
    for (clnt, &count) in counts.iter().enumerate() {
        check_clnt_appends(clnt, value, count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's algorithm, kept as the reference the one-pass scan must agree with.
    fn go_verdict(clnt: usize, value: &str, count: usize) -> Result<(), String> {
        let mut last_offset: Option<usize> = None;
        for j in 0..count {
            let wanted = element(clnt, j);
            let Some(offset) = value.find(&wanted) else {
                return Err(format!(
                    "{clnt} missing element {wanted} in Append result {value}"
                ));
            };
            if value.rfind(&wanted) != Some(offset) {
                return Err(format!("duplicate element {wanted} in Append result"));
            }
            if last_offset.is_some_and(|last| offset <= last) {
                return Err(format!("wrong order for element {wanted} in Append result"));
            }
            last_offset = Some(offset);
        }
        Ok(())
    }

    /// The one-pass check agrees with Go's searches, verdict and message, on
    /// values built from elements, other clients' elements and near misses,
    /// shuffled, duplicated and cut.
    #[test]
    fn one_pass_check_agrees_with_go() {
        use rand::seq::SliceRandom;
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let pieces = |rng: &mut rand::rngs::StdRng| -> Vec<String> {
            let mut v: Vec<String> = (0..rng.random_range(0..14))
                .map(|j| element(1, j))
                .collect();
            for _ in 0..rng.random_range(0..4) {
                let junk = match rng.random_range(0..7) {
                    0 => element(11, rng.random_range(0..12)),
                    1 => element(0, rng.random_range(0..12)),
                    2 => format!("x 1 0{} y", rng.random_range(0..12)),
                    3 => "x 1 ".to_owned(),
                    4 => "y".to_owned(),
                    5 => format!("x 1 {}", rng.random_range(0..12)),
                    _ => element(1, rng.random_range(0..12)),
                };
                let at = rng.random_range(0..=v.len());
                v.insert(at, junk);
            }
            if rng.random_bool(0.3) {
                v.shuffle(rng);
            }
            v
        };
        let mut failures_seen = 0;
        for _ in 0..20_000 {
            let value: String = pieces(&mut rng).concat();
            let count = rng.random_range(0..14);
            let go = go_verdict(1, &value, count);
            failures_seen += usize::from(go.is_err());
            assert_eq!(
                appends_verdict(1, &value, count),
                go,
                "value {value:?}, count {count}"
            );
        }
        assert!(
            failures_seen > 1000,
            "the generator must produce bad values too"
        );
    }
}
