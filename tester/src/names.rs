//! Random names and values drawn from the one seeded generator.

use rand::Rng;

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A random string of `n` URL-safe characters (the course's `Randstring`),
/// drawn from [`labrpc::rng`] so that `LAB_SEED` fixes it.
pub fn randstring(n: usize) -> String {
    labrpc::rng::with(|rng| {
        (0..n)
            .map(|_| URL_SAFE[rng.random_range(0..URL_SAFE.len())] as char)
            .collect()
    })
}

/// The labrpc name of server `i` of group `gid`: `server-<gid>-<i>`.
pub fn server_name(gid: usize, i: usize) -> String {
    format!("server-{gid}-{i}")
}
