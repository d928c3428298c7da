//! Fixture tests whose outcome depends on LAB_SEED, for dstest's own tests.

#[cfg(test)]
mod tests {
    use std::io::Write;

    fn seed() -> u64 {
        let text = std::env::var("LAB_SEED").expect("dstest sets LAB_SEED");
        text.parse().expect("LAB_SEED is a number")
    }

    /// Writes `<LAB_LOG_DIR>/<test>-<seed>.log` as the tester's logging would.
    fn write_debug_log(name: &str, seed: u64) {
        if let Some(dir) = std::env::var_os("LAB_LOG_DIR") {
            let path = std::path::Path::new(&dir).join(format!("{name}-{seed}.log"));
            let mut file = std::fs::File::create(path).unwrap();
            writeln!(file, "# lab debug log: test {name} seed {seed}").unwrap();
            writeln!(file, "        10 D ELECTION raft    S0 T1 timeout").unwrap();
        }
    }

    #[test]
    fn always_passes() {
        write_debug_log("always_passes", seed());
        println!("always passes");
    }

    #[test]
    fn fails_on_odd_seed() {
        let seed = seed();
        write_debug_log("fails_on_odd_seed", seed);
        if seed % 2 == 1 {
            // As a failing KV test draws its history for VIS_FILE.
            if let Some(path) = std::env::var_os("VIS_FILE") {
                std::fs::write(path, "<html></html>").unwrap();
            }
            println!("Fatal: odd seed {seed}");
            panic!("odd seed {seed}");
        }
    }

    #[test]
    fn runs_in_the_crate_directory() {
        let cwd = std::env::current_dir().unwrap();
        assert!(cwd.join("Cargo.toml").exists(), "cwd {}", cwd.display());
        assert_eq!(std::env::var("CARGO_PKG_NAME").unwrap(), "flaky");
    }

    #[test]
    #[ignore = "hangs; dstest's timeout test runs it"]
    fn hangs() {
        loop {
            std::thread::park();
        }
    }

    #[test]
    #[ignore = "aborts; dstest's crash test runs it"]
    fn aborts() {
        std::process::abort();
    }

    /// A stand-in for a swarm test (tester::swarm): knobs from SWARM_CONFIG
    /// (peers 5, crashes on, secs 10 unless overridden); it fails while
    /// crashes are on and the run lasts at least 5 s, printing the swarm's
    /// configuration and simplification lines as the driver does.
    #[test]
    #[ignore = "dstest's shrink test runs it"]
    fn swarm_fake() {
        let config = std::env::var("SWARM_CONFIG").unwrap_or_default();
        let knob = |name: &str, default: &str| {
            config
                .split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{name}=")))
                .unwrap_or(default)
                .to_string()
        };
        let peers: u64 = knob("peers", "5").parse().unwrap();
        let crashes = knob("crashes", "on");
        let secs: u64 = knob("secs", "10").parse().unwrap();
        if crashes == "on" && secs >= 5 {
            println!("  ... swarm config: peers={peers} crashes={crashes} secs={secs}");
            let mut simpler = Vec::new();
            if peers > 3 {
                simpler.push(format!("peers={}", peers - 2));
            }
            simpler.push("crashes=off".to_string());
            if secs / 2 >= 1 {
                simpler.push(format!("secs={}", secs / 2));
            }
            println!("  ... swarm simpler: {}", simpler.join(" | "));
            panic!("a swarm seed failed");
        }
    }
}
