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

/// Checks that `value` holds client `clnt`'s elements 0..count once each, in order.
#[track_caller]
pub fn check_clnt_appends(clnt: usize, value: &str, count: usize) {
    let mut last_offset: Option<usize> = None;
    for j in 0..count {
        let wanted = element(clnt, j);
        let Some(offset) = value.find(&wanted) else {
            panic!("{clnt} missing element {wanted} in Append result {value}");
        };
        if value.rfind(&wanted) != Some(offset) {
            panic!("duplicate element {wanted} in Append result");
        }
        if last_offset.is_some_and(|last| offset <= last) {
            panic!("wrong order for element {wanted} in Append result");
        }
        last_offset = Some(offset);
    }
}

/// [`check_clnt_appends`] for every client `i`, with `counts[i]` elements.
#[track_caller]
pub fn check_concurrent_appends(value: &str, counts: &[usize]) {
    for (clnt, &count) in counts.iter().enumerate() {
        check_clnt_appends(clnt, value, count);
    }
}
