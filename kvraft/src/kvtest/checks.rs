//! The recorded helpers and checks of Go's `kvtest1/kvtest.go`.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use rand::Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tester::TestServer;

use super::{Done, ELECTION_TIMEOUT, Test, TestClerk};
use crate::rpc::{KvError, Version};

/// One worker's tally: Puts that returned OK and Puts that returned ErrMaybe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClntRes {
    /// Puts that certainly happened.
    pub nok: u64,
    /// Puts that may have happened.
    pub nmaybe: u64,
}

impl fmt::Display for ClntRes {
    /// Go's `%v` of the struct: `{Nok Nmaybe}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{} {}}}", self.nok, self.nmaybe)
    }
}

/// The value a worker Puts: who wrote it, at which version (JSON
/// `{"Id":3,"V":7}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryV {
    /// The writing client.
    #[serde(rename = "Id")]
    pub id: i64,
    /// The version the writer put it at.
    #[serde(rename = "V")]
    pub v: Version,
}

impl fmt::Display for EntryV {
    /// Go's `%v` of the struct: `{Id V}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{} {}}}", self.id, self.v)
    }
}

impl<S: TestServer> Test<S> {
    /// Puts `value` at `key` until one attempt succeeds, assuming this clerk is
    /// the key's only writer: after ErrMaybe or ErrVersion it tries the next
    /// version. Returns the version after the successful Put.
    #[track_caller]
    pub fn put_at_least_once(
        &self,
        ck: &TestClerk,
        key: &str,
        value: &str,
        mut ver: Version,
        me: i64,
    ) -> Version {
        loop {
            match self.put(ck, key, value, ver, me) {
                Ok(()) => return ver + 1,
                Err(KvError::Maybe | KvError::Version) => ver += 1,
                Err(err) => {
                    if ver != 0 {
                        self.cfg.fatal(format!("Put {key} ver {ver} err {err}"));
                    }
                }
            }
        }
    }

    /// A recorded Get (client 0) that must return exactly `value` at `version`.
    #[track_caller]
    pub fn check_get(&self, ck: &TestClerk, key: &str, value: &str, version: Version) {
        match self.get(ck, key, 0) {
            Err(err) => self.cfg.fatal(format!("Get({key}) returns error = {err}")),
            Ok((v, ver)) if v != value || ver != version => self.cfg.fatal(format!(
                "Get({key}) returns ({v}, {ver}) != ({value}, {version})"
            )),
            Ok(_) => {}
        }
    }

    /// A recorded Get by `me` whose value is JSON for a `T`; returns it and
    /// its version.
    #[track_caller]
    pub fn get_json<T: DeserializeOwned>(
        &self,
        ck: &TestClerk,
        key: &str,
        me: i64,
    ) -> (T, Version) {
        match self.get(ck, key, me) {
            Ok((value, ver)) => match serde_json::from_str(&value) {
                Ok(v) => (v, ver),
                Err(_) => self.cfg.fatal(format!("Unmarshal err {ver}")),
            },
            Err(err) => self.cfg.fatal(format!("{me}: Get {key:?} err {err}")),
        }
    }

    /// A recorded Put by `me` of `v` as JSON.
    pub fn put_json<T: Serialize>(
        &self,
        ck: &TestClerk,
        key: &str,
        v: &T,
        ver: Version,
        me: i64,
    ) -> Result<(), KvError> {
        let value = serde_json::to_string(v).expect("test values encode as JSON");
        self.put(ck, key, &value, ver, me)
    }

    /// One worker Put of `{me, ver}` at `ver`, retried at fresher versions
    /// after ErrVersion, each attempt followed by a Get that checks the value.
    /// Returns the key's version afterwards and whether the Put returned OK
    /// (otherwise ErrMaybe).
    #[track_caller]
    pub fn one_put(&self, me: i64, ck: &TestClerk, key: &str, mut ver: Version) -> (Version, bool) {
        loop {
            let err = self.put_json(ck, key, &EntryV { id: me, v: ver }, ver, me);
            if !matches!(err, Ok(()) | Err(KvError::Version | KvError::Maybe)) {
                self.cfg
                    .fatal(format!("Wrong error {}", crate::rpc::err_string(&err)));
            }
            let (e, ver0): (EntryV, Version) = self.get_json(ck, key, me);
            if err.is_ok() && ver0 == ver + 1 && e.id != me && e.v != ver {
                self.cfg.fatal(format!("Wrong value {e}"));
            }
            ver = ver0;
            if matches!(err, Ok(()) | Err(KvError::Maybe)) {
                return (ver, err.is_ok());
            }
        }
    }

    /// A worker: OnePuts to `keys[0]` (or random keys) until `done` is raised,
    /// checked between Puts. Returns its tally.
    #[track_caller]
    pub fn one_client_put(
        &self,
        cli: usize,
        ck: &TestClerk,
        keys: &[String],
        done: &Done,
    ) -> ClntRes {
        self.one_client_put_paced(cli, ck, keys, done, Duration::ZERO)
    }

    /// [`Test::one_client_put`] with `pause` between one OnePut and the next
    /// (a client that thinks, so a long run stays a modest history).
    #[track_caller]
    pub fn one_client_put_paced(
        &self,
        cli: usize,
        ck: &TestClerk,
        keys: &[String],
        done: &Done,
        pause: Duration,
    ) -> ClntRes {
        let mut res = ClntRes::default();
        let mut verm: HashMap<&str, Version> = keys.iter().map(|k| (k.as_str(), 0)).collect();
        let mut rng = labrpc::rng::child();
        while !done.is_raised() {
            let k = if self.randomkeys {
                keys[rng.random_range(0..keys.len())].as_str()
            } else {
                keys[0].as_str()
            };
            let (ver, ok) = self.one_put(cli as i64, ck, k, verm[k]);
            verm.insert(k, ver);
            if ok {
                res.nok += 1;
            } else {
                res.nmaybe += 1;
            }
            if !pause.is_zero() {
                done.wait_timeout(pause);
            }
        }
        res
    }

    /// Runs `nclnt` workers, each with a fresh clerk, for `t`, then stops them
    /// (each finishes its current operation) and returns their tallies in
    /// client order. A worker's failure fails the caller at once: it stops
    /// every clerk of the test, so the other workers end too.
    pub fn spawn_clients_and_wait<F>(&self, nclnt: usize, t: Duration, f: F) -> Vec<ClntRes>
    where
        F: Fn(usize, &TestClerk, &Done) -> ClntRes + Sync,
    {
        /// Raises `done` if the worker fails, so the wait below ends.
        struct RaiseOnPanic<'a>(&'a Done);
        impl Drop for RaiseOnPanic<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.raise();
                }
            }
        }
        let done = Done::new();
        let results = labrt::thread::scope(|s| {
            let _stop = self.stop_clerks_on_panic();
            let workers: Vec<_> = (0..nclnt)
                .map(|cli| {
                    let (f, done) = (&f, &done);
                    s.spawn(move || {
                        // Dropped in reverse order: clerks stop, then the wait ends.
                        let _raise = RaiseOnPanic(done);
                        let _stop = self.stop_clerks_on_panic();
                        let ck = self.make_clerk();
                        let res = f(cli, &ck, done);
                        self.delete_clerk(&ck);
                        res
                    })
                })
                .collect();
            done.wait_timeout(t);
            done.raise();
            workers.into_iter().map(|w| w.join()).collect::<Vec<_>>()
        });
        super::first_failure(results).unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// After concurrent workers on `key`: adds their tallies `rs` into the
    /// cumulative `res` and checks the key's version against them (exactly the
    /// OK count on a reliable run, at most OK + maybe otherwise).
    #[track_caller]
    pub fn check_put_concurrent(
        &self,
        ck: &TestClerk,
        key: &str,
        rs: &[ClntRes],
        res: &mut ClntRes,
        reliable: bool,
    ) {
        let (_e, ver0): (EntryV, Version) = self.get_json(ck, key, -1);
        for r in rs {
            res.nok += r.nok;
            res.nmaybe += r.nmaybe;
        }
        if reliable {
            if ver0 != res.nok {
                self.cfg.fatal(format!(
                    "Reliable: Wrong number of puts: server {ver0} clnts {res}"
                ));
            }
        } else if ver0 > res.nok + res.nmaybe {
            self.cfg.fatal(format!(
                "Unreliable: Wrong number of puts: server {ver0} clnts {res}"
            ));
        }
    }

    /// Repartitions group 0 at random (a random side per server, either side
    /// possibly empty) every election timeout plus 0-199 ms, until `done` is
    /// raised.
    pub fn partitioner(&self, done: &Done) {
        let group = self.cfg.group();
        let mut rng = labrpc::rng::child();
        while !done.is_raised() {
            let mut sides: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
            for i in 0..group.n() {
                sides[rng.random_range(0..2)].push(i);
            }
            group.partition(&sides[0], &sides[1]);
            let pause = ELECTION_TIMEOUT + Duration::from_millis(rng.random_range(0..200));
            done.wait_timeout(pause);
        }
    }

    /// Puts random values of length `valsz` at version 0 to `n` fresh keys with
    /// unrecorded clerk calls, then checks each with a recorded Get.
    #[track_caller]
    pub fn spread_puts_size(
        &self,
        ck: &TestClerk,
        n: usize,
        valsz: usize,
    ) -> (Vec<String>, Vec<String>) {
        let keys = super::make_keys(n);
        let values: Vec<String> = (0..n).map(|_| super::rand_value(valsz)).collect();
        for (k, v) in keys.iter().zip(&values) {
            if let Err(err) = ck.put(k, v, 0) {
                self.cfg.fatal(format!("Put {k} err {err}"));
            }
        }
        for (k, v) in keys.iter().zip(&values) {
            self.check_get(ck, k, v, 1);
        }
        (keys, values)
    }

    /// [`Test::spread_puts_size`] with 20-letter values.
    #[track_caller]
    pub fn spread_puts(&self, ck: &TestClerk, n: usize) -> (Vec<String>, Vec<String>) {
        self.spread_puts_size(ck, n, 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values and tallies print as Go's %v of the structs and encode as Go's JSON.
    #[test]
    fn go_formats() {
        let e = EntryV { id: 3, v: 7 };
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"Id":3,"V":7}"#);
        assert_eq!(e.to_string(), "{3 7}");
        assert_eq!(ClntRes { nok: 4, nmaybe: 1 }.to_string(), "{4 1}");
    }
}
