//! The real binary driven in tmux as a person would: keys in, screen captured.
mod common;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    name: String,
}

impl Tmux {
    fn start(name: &str, w: u16, h: u16, cmd: &str) -> Tmux {
        let _ = Command::new("tmux").args(["kill-session", "-t", name]).status();
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
            ])
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux is installed")
            .success();
        assert!(ok, "tmux new-session failed");
        let t = Tmux { name: name.into() };
        t.keys(&[cmd, "Enter"]);
        t
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Waits (generously: machines here are noisy) until the screen shows `text`.
    fn wait_for(&self, text: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                // Let a frame that was being written finish, then read the whole screen.
                std::thread::sleep(Duration::from_millis(300));
                return self.screen();
            }
            assert!(
                start.elapsed() < limit,
                "'{text}' did not appear within {limit:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.name]).status();
    }
}

fn demo(scenario: &str) -> String {
    format!("{} demo --scenario {scenario}; echo EXIT=$?", common::bin().display())
}

#[test]
fn missing_select_at_140x45() {
    let t = Tmux::start("kd-missing-select", 140, 45, &demo("missing-select"));
    let s = t.wait_for("cassandra:Select", Duration::from_secs(30));
    for title in ["Identity", "Endpoint & TLS", "Query attempts", "Diagnosis"] {
        assert!(s.contains(title), "pane {title} missing:\n{s}");
    }
    t.wait_for("missing-permission", Duration::from_secs(30));
    // Move through the tree: down, expand, down.
    t.keys(&["Down"]);
    t.keys(&["Enter"]);
    let s = t.wait_for("Path the evidence took", Duration::from_secs(10));
    assert!(s.contains("> "), "a selection marker is visible without colour:\n{s}");
    t.keys(&["Tab"]);
    t.wait_for("▶ Identity", Duration::from_secs(10));
    t.keys(&["?"]);
    let s = t.wait_for("Help: key bindings", Duration::from_secs(10));
    assert!(s.contains("Shift-Tab") && s.contains("Ctrl-C"), "{s}");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
    // The terminal is usable again: the shell echoes a command.
    t.keys(&["echo usable-$((40+2))", "Enter"]);
    t.wait_for("usable-42", Duration::from_secs(10));
}

#[test]
fn starfield_only_truststore_at_80x24() {
    let t = Tmux::start("kd-starfield", 80, 24, &demo("starfield-only-truststore"));
    let s = t.wait_for("tls-trust", Duration::from_secs(30));
    for title in ["Identity", "Endpoint & TLS", "Query attempts", "Diagnosis"] {
        assert!(s.contains(title), "tab {title} missing:\n{s}");
    }
    let first = s.lines().next().unwrap_or_default().to_string();
    assert!(
        first.contains("tls-trust"),
        "the status line carries the headline: {first}"
    );
    t.keys(&["Tab"]);
    t.wait_for("▶Identity", Duration::from_secs(10));
    t.keys(&["Tab"]);
    let s = t.wait_for("▶Endpoint & TLS", Duration::from_secs(10));
    assert!(s.lines().next().unwrap_or_default().contains("tls-trust"), "{s}");
    t.keys(&["?"]);
    t.wait_for("Help: key bindings", Duration::from_secs(10));
    t.keys(&["Escape", "q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}

#[test]
fn keys_stay_responsive_while_a_probe_hangs() {
    let t = Tmux::start("kd-wrong-port", 140, 45, &demo("wrong-port"));
    t.wait_for("diagnosing", Duration::from_secs(20));
    // The TLS probe is now waiting on a port that never answers; keys still work.
    let start = Instant::now();
    t.keys(&["Tab"]);
    let s = t.wait_for("▶ Identity", Duration::from_secs(5));
    assert!(
        s.contains("diagnosing"),
        "the key was handled while the probe still hangs:\n{s}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    t.keys(&["q"]);
    t.wait_for("EXIT=0", Duration::from_secs(10));
}
